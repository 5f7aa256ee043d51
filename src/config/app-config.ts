import { ConfigError } from './config.error';
import { databaseUrl, type RedisEndpoint, redisEndpoint } from './endpoints';
import { bool, type Env, int, oneOf } from './env-readers';
import { parseTrustProxy, TrustProxy } from './trust-proxy';
import { parseDurationSeconds } from './duration';

/** Access tokens live a day at most. */
const MAX_TOKEN_LIFETIME_SECONDS = 24 * 3600;

export const ISSUANCE_STRATEGIES = ['pessimistic', 'redis', 'queue'] as const;
export type IssuanceStrategyName = (typeof ISSUANCE_STRATEGIES)[number];
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface DatabaseConfig {
  /** Connection URL; for the embedded server it is filled in once that server runs. */
  url: string;
  /** True when nothing was configured and an embedded PostgreSQL under `.data/` is used. */
  embedded: boolean;
  poolSize: number;
  acquireTimeoutMs: number;
  lockTimeoutMs: number;
  statementTimeoutMs: number;
  logging: boolean;
}

/** The whole configuration, validated once at start-up (see loadAppConfig). */
export abstract class AppConfig {
  nodeEnv: string;
  port: number;
  database: DatabaseConfig;
  /**
   * The Redis the service uses: set when the strategy keeps state in Redis (redis, queue), one
   * server (REDIS_URL) or a Redis Cluster (REDIS_CLUSTER_NODES, which wins). The pessimistic
   * strategy needs nothing but PostgreSQL and leaves both unused; its limits, log-in records and
   * caches then live in the process.
   */
  redis?: RedisEndpoint;
  jwt: {
    /** HS256 secret; undefined in development means "use the one kept under .data/". */
    secret?: string;
    expiresInSeconds: number;
  };
  strategy: IssuanceStrategyName;
  runWorker: boolean;
  /** Jobs (each a batch of accepted requests) one worker process handles at once (queue strategy). */
  workerConcurrency: number;
  /**
   * How many BullMQ queues the issue jobs spread over (QUEUE_SHARDS); undefined: one on a single
   * Redis, one per master on a cluster (counted at start-up). Every process must see the same
   * number: set it explicitly where processes may start while the cluster is changing shape.
   */
  queueShards?: number;
  /**
   * How long a process may answer SOLD_OUT from its own flag without asking again (SOLD_OUT_FLAG_MS):
   * the hard bound on a stale flag when a change was not heard; 0 turns the flags off.
   */
  soldOutFlagMs: number;
  /** API processes on the one port (API_PROCESSES; Node's cluster): one per core. */
  apiProcesses: number;
  admin?: { email: string; password: string };
  logLevel: LogLevel;
  bodyLimitBytes: number;
  /** Which proxies' X-Forwarded-For decides the client address (per-address limits count by it). */
  trustProxy: TrustProxy;
  rateLimit: {
    /** Issue requests per user and coupon per second (counted by the strategy), and give-backs and redemptions per user; 0 turns the limit off. */
    issuePerSecond: number;
    /** /auth/* requests per client address per minute; 0 turns the limit off. */
    authPerMinute: number;
    /** Sign-ups per client address per hour, on top of authPerMinute; 0 turns the limit off. */
    signupPerHour: number;
    /** Polls and lists per user per second (admins not counted); 0 turns the limit off. */
    readPerSecond: number;
  };
}

/** Where weak settings are tolerated; anywhere else (NODE_ENV unset included) they stop start-up. */
const LENIENT_ENVS = ['development', 'test'];
const MIN_PRODUCTION_SECRET_BYTES = 32;
/** Each shard is a queue every worker process polls with a blocking connection of its own. */
const MAX_QUEUE_SHARDS = 64;
const MIN_ADMIN_PASSWORD_LENGTH = 12;
/** Passwords that appear in examples (this project's among them): as good as public. */
const KNOWN_DEFAULT_PASSWORDS = new Set(['change-me-please', 'changeme123!', 'administrator', 'password1234', 'admin-password', 'adminadminadmin']);
const MIN_PRODUCTION_SECRET_DISTINCT_CHARS = 12;

/** Validates the environment; throws ConfigError (one line, naming the variable) on the first problem. */
export function loadAppConfig(env: Env): AppConfig {
  const nodeEnv = env.NODE_ENV?.trim() || '';
  // Every check a deployment needs holds unless the environment says it is a developer's or a test's:
  // a host where NODE_ENV was simply never set (`npm run start:prod`) is treated as production.
  const strict = !LENIENT_ENVS.includes(nodeEnv);
  const why = `unless NODE_ENV is ${LENIENT_ENVS.join(' or ')}`;

  const secret = env.JWT_SECRET_KEY || undefined;
  if (strict && !secret) throw new ConfigError('JWT_SECRET_KEY', `is required ${why}`);
  if (strict && Buffer.byteLength(secret!, 'utf8') < MIN_PRODUCTION_SECRET_BYTES) {
    throw new ConfigError('JWT_SECRET_KEY', `must be at least ${MIN_PRODUCTION_SECRET_BYTES} bytes ${why}`);
  }
  // long but guessable ('xxxx…', '1234…1234'): a placeholder, not a key
  if (strict && new Set(secret).size < MIN_PRODUCTION_SECRET_DISTINCT_CHARS) {
    throw new ConfigError('JWT_SECRET_KEY', `is too repetitive to be a key (use e.g. openssl rand -hex 32) ${why}`);
  }
  const expiresIn = env.JWT_EXPIRES_IN?.trim() || '1h';
  const expiresInSeconds = parseDurationSeconds(expiresIn);
  if (!expiresInSeconds) throw new ConfigError('JWT_EXPIRES_IN', `must be a duration such as 3600, 15m, 1h or 24h, got "${expiresIn}"`);
  // a token outlives nothing it should not: revocation refuses it, but a leaked one still works until then
  if (expiresInSeconds > MAX_TOKEN_LIFETIME_SECONDS) throw new ConfigError('JWT_EXPIRES_IN', `must be at most 24h, got "${expiresIn}"`);

  const database = databaseUrl(env);
  // in production the data must live in a database of its own, not inside the service's files
  if (strict && database.embedded) throw new ConfigError('DATABASE_URL', `(or DATABASE_HOST) is required ${why}`);

  const strategy = oneOf(env, 'ISSUANCE_STRATEGY', ISSUANCE_STRATEGIES, 'pessimistic');
  const redis = redisEndpoint(env);
  if (strategy !== 'pessimistic' && !redis) throw new ConfigError('REDIS_URL', `(or REDIS_CLUSTER_NODES) is required by ISSUANCE_STRATEGY=${strategy}`);

  const adminEmail = env.ADMIN_EMAIL?.trim();
  const adminPassword = env.ADMIN_PASSWORD;
  if (Boolean(adminEmail) !== Boolean(adminPassword)) {
    throw new ConfigError(adminEmail ? 'ADMIN_PASSWORD' : 'ADMIN_EMAIL', 'must be set together with the other of ADMIN_EMAIL/ADMIN_PASSWORD');
  }
  if (strict && adminPassword && adminPassword.length < MIN_ADMIN_PASSWORD_LENGTH) {
    throw new ConfigError('ADMIN_PASSWORD', `must be at least ${MIN_ADMIN_PASSWORD_LENGTH} characters ${why}`);
  }
  if (strict && adminPassword && KNOWN_DEFAULT_PASSWORDS.has(adminPassword.toLowerCase())) {
    throw new ConfigError('ADMIN_PASSWORD', `is a published example password; choose one of your own (${why})`);
  }
  if (adminPassword && adminPassword.length < 8) throw new ConfigError('ADMIN_PASSWORD', 'must be at least 8 characters');

  return {
    nodeEnv: nodeEnv || 'production',
    port: int(env, 'PORT', 3000, 0, 65535),
    database: {
      ...database,
      poolSize: int(env, 'DB_POOL_SIZE', 10, 1, 200),
      acquireTimeoutMs: int(env, 'DB_ACQUIRE_TIMEOUT_MS', 3000, 1, 600_000),
      lockTimeoutMs: int(env, 'DB_LOCK_TIMEOUT_MS', 3000, 1, 600_000),
      statementTimeoutMs: int(env, 'DB_STATEMENT_TIMEOUT_MS', 10_000, 1, 600_000),
      logging: bool(env, 'DB_LOGGING', false),
    },
    redis: strategy === 'pessimistic' ? undefined : redis,
    jwt: { secret, expiresInSeconds },
    strategy,
    runWorker: bool(env, 'RUN_WORKER', true),
    workerConcurrency: int(env, 'WORKER_CONCURRENCY', 50, 1, 10_000),
    soldOutFlagMs: int(env, 'SOLD_OUT_FLAG_MS', 100, 0, 10_000),
    apiProcesses: int(env, 'API_PROCESSES', 1, 1, 64),
    queueShards: env.QUEUE_SHARDS?.trim() ? int(env, 'QUEUE_SHARDS', 1, 1, MAX_QUEUE_SHARDS) : undefined,
    admin: adminEmail && adminPassword ? { email: adminEmail.toLowerCase(), password: adminPassword } : undefined,
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    bodyLimitBytes: int(env, 'BODY_LIMIT_BYTES', 16 * 1024, 256, 10 * 1024 * 1024),
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    rateLimit: {
      issuePerSecond: int(env, 'RATE_LIMIT_ISSUE_PER_SECOND', 10, 0, 1_000_000),
      authPerMinute: int(env, 'RATE_LIMIT_AUTH_PER_MINUTE', 60, 0, 1_000_000),
      signupPerHour: int(env, 'RATE_LIMIT_SIGNUP_PER_HOUR', 20, 0, 1_000_000),
      readPerSecond: int(env, 'RATE_LIMIT_READ_PER_SECOND', 50, 0, 1_000_000),
    },
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
