import type { Pool } from 'pg';
import { until } from './burst';

/**
 * Another session takes the coupon row's lock (FOR UPDATE) and keeps it until `release()`: writes
 * of that coupon wait on it, which is how tests hold requests in flight. `release` rolls back.
 */
export async function holdCouponRow(sql: Pool, couponId: number): Promise<{ release: () => Promise<void> }> {
  const session = await sql.connect();
  await session.query('BEGIN');
  await session.query('SELECT 1 FROM coupons WHERE id = $1 FOR UPDATE', [couponId]);
  let released = false;
  return {
    release: async () => {
      if (released) return;
      released = true;
      await session.query('ROLLBACK').catch(() => undefined);
      session.release();
    },
  };
}

/** Waits until at least `count` sessions wait on a lock (the coupon row's, or an advisory one): requests have reached PostgreSQL. */
export function untilLockWaiters(sql: Pool, count = 1, timeoutMs = 30_000): Promise<number> {
  return until(
    async () => {
      const { rows } = await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'`);
      return rows[0].n >= count ? rows[0].n : undefined;
    },
    { timeoutMs, what: `${count} session(s) waiting on a lock` },
  );
}
