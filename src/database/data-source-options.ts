import { types } from 'pg';
import type { DataSourceOptions } from 'typeorm';
import type { DatabaseConfig } from '../config/database.config';
import { SqlLogger } from './sql-logger';
import { InitialSchema1764000000000 } from './migrations/1764000000000-initial-schema';
import { CouponLifecycle1764100000000 } from './migrations/1764100000000-coupon-lifecycle';
import { TokenRevocation1764200000000 } from './migrations/1764200000000-token-revocation';
import { StockNotify1764400000000 } from './migrations/1764400000000-stock-notify';
import { IdempotencyKeys1764500000000 } from './migrations/1764500000000-idempotency-keys';
import { Withdrawals1764600000000 } from './migrations/1764600000000-withdrawals';
import { TokenGeneration1764700000000 } from './migrations/1764700000000-token-generation';
import { CouponVersion1764800000000 } from './migrations/1764800000000-coupon-version';
import { RequestStamp1764900000000 } from './migrations/1764900000000-request-stamp';
import { ExternalIdentity1765000000000 } from './migrations/1765000000000-external-identity';
import { ApiKeys1765100000000 } from './migrations/1765100000000-api-keys';
import { Events1765200000000 } from './migrations/1765200000000-events';
import { Webhooks1765300000000 } from './migrations/1765300000000-webhooks';
import { EventsPlacedOnCommit1765400000000 } from './migrations/1765400000000-events-placed-on-commit';

// bigint (ids of coupon_issues, count(*)) as a JS number: ids stay far below 2^53.
types.setTypeParser(types.builtins.INT8, (value: string) => Number(value));

export const MIGRATIONS = [
  InitialSchema1764000000000,
  CouponLifecycle1764100000000,
  TokenRevocation1764200000000,
  StockNotify1764400000000,
  IdempotencyKeys1764500000000,
  Withdrawals1764600000000,
  TokenGeneration1764700000000,
  CouponVersion1764800000000,
  RequestStamp1764900000000,
  ExternalIdentity1765000000000,
  ApiKeys1765100000000,
  Events1765200000000,
  Webhooks1765300000000,
  EventsPlacedOnCommit1765400000000,
];

/**
 * One place for connection settings. The pool is small on purpose, and every wait is bounded:
 * acquiring a connection, waiting for a lock, running a statement. Overload thus turns into a
 * fast 503 instead of a pile of hung requests.
 */
export function dataSourceOptions(db: DatabaseConfig): DataSourceOptions {
  return {
    type: 'postgres',
    url: db.url,
    // none here: each feature registers its own (TypeOrmModule.forFeature, autoLoadEntities), so
    // the database layer knows no feature, and migrations (plain SQL) need none
    entities: [],
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsRun: false,
    synchronize: false,
    // failures reach the error filter, which logs the unexpected ones once, with a request id
    logger: new SqlLogger(db.logging),
    logging: true,
    maxQueryExecutionTime: 1000,
    extra: {
      max: db.poolSize,
      connectionTimeoutMillis: db.acquireTimeoutMs,
      idleTimeoutMillis: 30_000,
      // idle pooled connections alone do not keep a process alive (scripts, a failed start-up)
      allowExitOnIdle: true,
      application_name: 'coupon-service',
      options: `-c lock_timeout=${db.lockTimeoutMs} -c statement_timeout=${db.statementTimeoutMs} -c idle_in_transaction_session_timeout=${db.statementTimeoutMs}`,
    },
  };
}
