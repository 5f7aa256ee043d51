import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { runMigrationsExclusively } from '../../src/database/run-migrations';
import { assertTestDatabase, TEST_DATABASE_URL, TEST_REDIS_URL } from './test-env';

/** Once per run: an empty schema, migrated exactly as production migrates it, and an empty Redis database. */
export default async function globalSetup(): Promise<void> {
  assertTestDatabase(TEST_DATABASE_URL);
  Logger.overrideLogger(['error']);
  const ds = new DataSource(
    dataSourceOptions({ url: TEST_DATABASE_URL, embedded: false, poolSize: 2, acquireTimeoutMs: 10_000, lockTimeoutMs: 10_000, statementTimeoutMs: 60_000, logging: false }),
  );
  await ds.initialize();
  try {
    await ds.query('DROP SCHEMA public CASCADE');
    await ds.query('CREATE SCHEMA public');
    await runMigrationsExclusively(ds);
  } finally {
    await ds.destroy();
  }
  // Coupon ids restart with the schema: stale Redis state of an earlier run must not meet them.
  const redis = new Redis(TEST_REDIS_URL);
  try {
    await redis.flushdb();
  } finally {
    redis.disconnect();
  }
}
