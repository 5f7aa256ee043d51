import { ConfigError } from './config.error';
import type { Deployment } from './deployment';
import { databaseUrl } from './endpoints';
import { bool, type Env, int } from './env-readers';

/** PostgreSQL (DATABASE_URL or its parts, DB_*). */
export abstract class DatabaseConfig {
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

export function readDatabaseConfig(env: Env, { strict, why }: Deployment): DatabaseConfig {
  const database = databaseUrl(env);
  // in production the data must live in a database of its own, not inside the service's files
  if (strict && database.embedded) throw new ConfigError('DATABASE_URL', `(or DATABASE_HOST) is required ${why}`);
  return {
    ...database,
    poolSize: int(env, 'DB_POOL_SIZE', 10, 1, 200),
    acquireTimeoutMs: int(env, 'DB_ACQUIRE_TIMEOUT_MS', 3000, 1, 600_000),
    lockTimeoutMs: int(env, 'DB_LOCK_TIMEOUT_MS', 3000, 1, 600_000),
    statementTimeoutMs: int(env, 'DB_STATEMENT_TIMEOUT_MS', 10_000, 1, 600_000),
    logging: bool(env, 'DB_LOGGING', false),
  };
}
