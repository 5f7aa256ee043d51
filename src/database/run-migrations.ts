import type { DataSource } from 'typeorm';

/** Arbitrary constant: the advisory lock key all instances agree on for migrating. */
const MIGRATION_LOCK_KEY = 727_001;

/**
 * Runs pending migrations once across every process starting at the same moment: whoever takes
 * the advisory lock migrates, the others wait and then find nothing left to do.
 */
export async function runMigrationsExclusively(dataSource: DataSource): Promise<void> {
  const lockRunner = dataSource.createQueryRunner();
  await lockRunner.connect();
  try {
    // Wait as long as another instance migrates; RESET below, since this connection goes back to the pool.
    await lockRunner.query('SET lock_timeout = 0');
    await lockRunner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await dataSource.runMigrations({ transaction: 'each' });
    } finally {
      await lockRunner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
      await lockRunner.query('RESET lock_timeout');
    }
  } finally {
    await lockRunner.release();
  }
}
