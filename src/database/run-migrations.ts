import type { DataSource } from 'typeorm';
import { MigrationExecutor } from 'typeorm/migration/MigrationExecutor';
import { ADVISORY_LOCK } from './advisory-locks';

/**
 * Runs pending migrations once across every process starting at the same moment: whoever takes
 * the advisory lock migrates, the others wait and then find nothing left to do. The migrations run
 * on the connection that holds the lock, so one pooled connection (DB_POOL_SIZE=1) is enough.
 */
export async function runMigrationsExclusively(dataSource: DataSource): Promise<void> {
  const lockRunner = dataSource.createQueryRunner();
  await lockRunner.connect();
  try {
    // Wait as long as another instance migrates; RESET below, since this connection goes back to the pool.
    await lockRunner.query('SET lock_timeout = 0');
    await lockRunner.query('SELECT pg_advisory_lock($1)', [ADVISORY_LOCK.migrations]);
    try {
      const executor = new MigrationExecutor(dataSource, lockRunner);
      executor.transaction = 'each';
      await executor.executePendingMigrations();
    } finally {
      await lockRunner.query('SELECT pg_advisory_unlock($1)', [ADVISORY_LOCK.migrations]);
      await lockRunner.query('RESET lock_timeout');
    }
  } finally {
    await lockRunner.release();
  }
}
