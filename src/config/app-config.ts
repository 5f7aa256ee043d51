import { AuthConfig, readAuthConfig } from './auth.config';
import { ConfigError } from './config.error';
import { DatabaseConfig, readDatabaseConfig } from './database.config';
import { deploymentOf } from './deployment';
import { type RedisEndpoint, redisEndpoint } from './endpoints';
import { type Env, oneOf } from './env-readers';
import { HttpConfig, readHttpConfig } from './http.config';
import { IssuanceConfig, readIssuanceConfig } from './issuance.config';
import { RateLimitConfig, readRateLimitConfig } from './rate-limit.config';
import { readWebhookConfig, WebhookConfig } from './webhook.config';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * The whole configuration, validated once at start-up (loadAppConfig), before Nest starts: the
 * entry points need it first (the embedded PostgreSQL, the API processes). It is one typed slice
 * per area; AppConfigModule provides each slice on its own, and a consumer injects only its own.
 */
export abstract class AppConfig {
  nodeEnv: string;
  logLevel: LogLevel;
  http: HttpConfig;
  database: DatabaseConfig;
  /**
   * The Redis the service uses: set when the strategy keeps state in Redis (redis, queue), one
   * server (REDIS_URL) or a Redis Cluster (REDIS_CLUSTER_NODES, which wins). The pessimistic
   * strategy needs nothing but PostgreSQL and leaves both unused; its limits, log-in records and
   * caches then live in the process (SharedStateModule).
   */
  redis?: RedisEndpoint;
  auth: AuthConfig;
  issuance: IssuanceConfig;
  rateLimit: RateLimitConfig;
  webhooks: WebhookConfig;
}

/** Validates the environment; throws ConfigError (one line, naming the variable) on the first problem. */
export function loadAppConfig(env: Env): AppConfig {
  const deployment = deploymentOf(env);
  const auth = readAuthConfig(env, deployment);
  const database = readDatabaseConfig(env, deployment);
  const issuance = readIssuanceConfig(env);
  const redis = redisEndpoint(env);
  if (issuance.strategy !== 'pessimistic' && !redis) {
    throw new ConfigError('REDIS_URL', `(or REDIS_CLUSTER_NODES) is required by ISSUANCE_STRATEGY=${issuance.strategy}`);
  }
  return {
    nodeEnv: deployment.nodeEnv,
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    http: readHttpConfig(env),
    database,
    redis: issuance.strategy === 'pessimistic' ? undefined : redis,
    auth,
    issuance,
    rateLimit: readRateLimitConfig(env),
    webhooks: readWebhookConfig(env, deployment),
  };
}

/** For entry points: the validated configuration, or one line naming the variable and exit 1. */
export function loadAppConfigOrExit(env: Env): AppConfig {
  try {
    return loadAppConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}
