import { existsSync } from 'node:fs';
import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { ROOT_RUNTIME_DIR } from '../../src/database/embedded/postgres-binaries';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { runMigrationsExclusively } from '../../src/database/run-migrations';
import { makeRunScratchDir } from '../../servers/scratch-dir';
import globalTeardown from './global-teardown';
import { runState } from './run-state';
import { findOrStartServices } from './test-services';
import { assertTestDatabase, DEFAULT_TEST_DATABASE_URL, DEFAULT_TEST_REDIS_URL } from './test-env';

/**
 * Once per run: find or start PostgreSQL and Redis, then an empty schema, migrated exactly as
 * production migrates it, and an empty Redis database.
 */
export default async function globalSetup(): Promise<void> {
  // every tier that needs services names this setup (the unit tier does not, so it runs alone
  // without any): the first call of a run does the work
  if (runState.prepared) return;
  runState.prepared = true;
  try {
    await prepare();
  } catch (error) {
    await globalTeardown(); // Jest runs no teardown after a failed setup: undo what was made
    throw error;
  }
}

async function prepare(): Promise<void> {
  const requestedDb = process.env.TEST_DATABASE_URL || DEFAULT_TEST_DATABASE_URL;
  assertTestDatabase(requestedDb);
  runState.runtimeDirExisted = existsSync(ROOT_RUNTIME_DIR);
  process.env.TEST_SCRATCH_DIR = makeRunScratchDir();
  runState.scratchDir = process.env.TEST_SCRATCH_DIR;
  runState.services = {};
  await findOrStartServices(requestedDb, process.env.TEST_REDIS_URL || DEFAULT_TEST_REDIS_URL, runState.services);
  const databaseUrl = process.env.TEST_DATABASE_URL || requestedDb;
  const redisUrl = process.env.TEST_REDIS_URL || DEFAULT_TEST_REDIS_URL;

  Logger.overrideLogger(['error']);
  const ds = new DataSource(
    dataSourceOptions({
      url: databaseUrl,
      embedded: false,
      poolSize: 2,
      acquireTimeoutMs: 10_000,
      lockTimeoutMs: 10_000,
      statementTimeoutMs: 60_000,
      logging: false,
    }),
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
  const redis = new Redis(redisUrl);
  try {
    await redis.flushdb();
  } finally {
    redis.disconnect();
  }
}
