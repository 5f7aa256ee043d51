import type { DataSource } from 'typeorm';

/**
 * What the passes that bring Redis back in step with PostgreSQL read (GiveBackRepair,
 * UnsettledWriteRepair, the queue's PendingSweeper): the coupons worth a look, and PostgreSQL's
 * truth about who holds a row.
 */

/** Coupons still in use: active, or changed within a day (a closed coupon's last requests). */
export async function couponsInUse(db: DataSource): Promise<number[]> {
  const rows = await db.query<{ id: number }[]>(`SELECT id FROM coupons WHERE status = 'ACTIVE' OR updated_at > now() - interval '1 day'`);
  return rows.map((r) => Number(r.id));
}

/** Which of these users hold a row of the coupon now (`db`: the data source, or a transaction's manager). */
export async function holdersAmong(db: Pick<DataSource, 'query'>, couponId: number, userIds: number[]): Promise<Set<number>> {
  const rows = await db.query<{ user_id: number }[]>(`SELECT user_id FROM coupon_issues WHERE coupon_id = $1 AND user_id = ANY($2::int[])`, [
    couponId,
    userIds,
  ]);
  return new Set(rows.map((r) => Number(r.user_id)));
}
