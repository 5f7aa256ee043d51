import { couponNotFound } from '../common/errors/domain.error';
import { closedReason } from '../coupons/coupon.view';
import type { CouponStatus } from '../coupons/coupon.entity';
import { alreadyIssued, notOpen, soldOut } from './issuance.errors';

/** What every strategy reads before deciding: the coupon's state and whether this user holds it. */
export interface IssuableRow {
  status: CouponStatus;
  starts_at: Date | null;
  ends_at: Date | null;
  total_quantity: number;
  issued_quantity: number;
  held: boolean;
}

/** `$1` coupon id, `$2` user id. Append `FOR UPDATE OF c` to lock the coupon row. */
export const ISSUABLE_SQL = `
  SELECT c.status, c.starts_at, c.ends_at, c.total_quantity, c.issued_quantity,
         EXISTS (SELECT 1 FROM coupon_issues i WHERE i.coupon_id = c.id AND i.user_id = $2) AS held
    FROM coupons c
   WHERE c.id = $1`;

/** Throws the refusal a request gets, in the order a user would want to hear it. */
export function assertIssuable(couponId: number, row: IssuableRow | undefined): void {
  if (!row) throw couponNotFound(couponId);
  if (row.held) throw alreadyIssued(couponId);
  const closed = closedReason({ status: row.status, startsAt: row.starts_at, endsAt: row.ends_at });
  if (closed) throw notOpen(couponId, closed);
  if (row.issued_quantity >= row.total_quantity) throw soldOut(couponId);
}
