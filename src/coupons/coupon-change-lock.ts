import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { ADVISORY_LOCK } from '../database/advisory-locks';

const logger = new Logger('CouponChangeLock');

/**
 * Runs one admin change of a coupon alone, from its guard in Redis to its listeners' step after
 * the commit: the next change of that coupon starts only then. Without it two changes interleave:
 * a lower total is put in force in Redis by its guard, another change commits and its listener
 * puts that change's (higher) total back in Redis, a unit is promised against it, and then the
 * lower total commits: PostgreSQL refuses the write of a request that was answered 202. A rebuild
 * of the coupon's Redis state takes the lock shared (ReservationRebuild), so it never installs a
 * total read between a guard and its commit either.
 *
 * A session lock, on a connection of its own: the change's own transaction is short and separate,
 * and no row is locked across the Redis steps. A process that dies holding it ends its session,
 * and with it the lock. Waiting for it is bounded like any lock (DB_LOCK_TIMEOUT_MS: a 503).
 */
export async function changeAlone<T>(db: DataSource, couponId: number, change: () => Promise<T>): Promise<T> {
  const runner = db.createQueryRunner();
  try {
    await runner.query('SELECT pg_advisory_lock($1, $2)', [ADVISORY_LOCK.changesOfCoupon, couponId]);
  } catch (error) {
    await runner.release();
    throw error;
  }
  try {
    return await change();
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1, $2)', [ADVISORY_LOCK.changesOfCoupon, couponId]).catch(async (error: Error) => {
      // its session must not go back to the pool still holding the lock
      logger.warn(`could not unlock the changes of coupon ${couponId}: ${error.message}`);
      await runner.query('SELECT pg_advisory_unlock_all()').catch(() => undefined);
    });
    await runner.release();
  }
}
