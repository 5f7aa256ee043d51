import { couponNotFound, DomainError } from '../common/errors/domain.error';
import { closedReason } from '../coupons/coupon.view';
import type { CouponStatus } from '../coupons/coupon.entity';
import { alreadyIssued, notOpen, soldOut } from './issuance.errors';

/** The coupon columns every decision reads. */
export interface CouponStateRow {
  status: CouponStatus;
  starts_at: Date | null;
  ends_at: Date | null;
  total_quantity: number;
  issued_quantity: number;
}

export type Decision = { grant: true } | { grant: false; error: DomainError };

/**
 * Decides a batch of requests (in arrival order) against one coupon state: holders and repeats
 * get ALREADY_ISSUED, then a closed campaign refuses everyone else, then stock goes first come,
 * first served. Returns, per request, either `grant` or the refusal.
 */
export function decideBatch(
  couponId: number,
  coupon: CouponStateRow | undefined,
  userIds: number[],
  alreadyHeld: ReadonlySet<number>,
  now = new Date(),
): Decision[] {
  if (!coupon) return userIds.map(() => ({ grant: false, error: couponNotFound(couponId) }));
  const closed = closedReason({ status: coupon.status, startsAt: coupon.starts_at, endsAt: coupon.ends_at }, now);
  let remaining = coupon.total_quantity - coupon.issued_quantity;
  const firstDecision = new Map<number, Decision>();
  return userIds.map((userId) => {
    const earlier = firstDecision.get(userId);
    // a repeat inside the batch: "already issued" if the first one won, else the same refusal
    if (earlier) return earlier.grant ? { grant: false, error: alreadyIssued(couponId) } : earlier;
    const decision: Decision = alreadyHeld.has(userId)
      ? { grant: false, error: alreadyIssued(couponId) }
      : closed
        ? { grant: false, error: notOpen(couponId, closed) }
        : remaining <= 0
          ? { grant: false, error: soldOut(couponId) }
          : (remaining--, { grant: true });
    firstDecision.set(userId, decision);
    return decision;
  });
}
