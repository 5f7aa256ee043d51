import type { CouponStatus } from '../coupons/coupon.entity';
import type { Refusal } from './refusal';

/** The coupon columns every decision reads. */
export interface CouponStateRow {
  status: CouponStatus;
  starts_at: Date | null;
  ends_at: Date | null;
  total_quantity: number;
  issued_quantity: number;
}

export type Decision = 'GRANTED' | Refusal;

/**
 * Whether the coupon takes requests now. The same rule is written in Lua (reserve.lua) and in
 * SQL (the writer's statement): ACTIVE, and within [starts_at, ends_at) where those are set.
 */
export function isOpen(c: Pick<CouponStateRow, 'status' | 'starts_at' | 'ends_at'>, now: Date): boolean {
  return c.status === 'ACTIVE' && (!c.starts_at || c.starts_at <= now) && (!c.ends_at || now < c.ends_at);
}

/**
 * Decides a batch of requests (in arrival order) against one coupon state: holders and repeats
 * get ALREADY_ISSUED, then a closed coupon refuses everyone else, then stock goes first come,
 * first served.
 */
export function decideBatch(coupon: CouponStateRow | undefined, userIds: number[], alreadyHeld: ReadonlySet<number>, now = new Date()): Decision[] {
  if (!coupon) return userIds.map(() => 'COUPON_NOT_FOUND');
  const open = isOpen(coupon, now);
  let remaining = coupon.total_quantity - coupon.issued_quantity;
  const firstDecision = new Map<number, Decision>();
  return userIds.map((userId) => {
    const earlier = firstDecision.get(userId);
    // a repeat inside the batch: "already issued" if the first one won, else the same refusal
    if (earlier) return earlier === 'GRANTED' ? 'ALREADY_ISSUED' : earlier;
    const decision: Decision = alreadyHeld.has(userId) ? 'ALREADY_ISSUED' : !open ? 'NOT_OPEN' : remaining <= 0 ? 'SOLD_OUT' : (remaining--, 'GRANTED');
    firstDecision.set(userId, decision);
    return decision;
  });
}
