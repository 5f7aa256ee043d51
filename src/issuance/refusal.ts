import { couponNotFound, DomainError } from '../common/errors/domain.error';
import { ErrorCode } from '../common/errors/error-code';

/**
 * Why a request for a coupon is not granted: the one vocabulary of every strategy, whichever
 * encoding decided it (TypeScript in `decideBatch`, Lua in `reserve.lua`, SQL in the writer's
 * statement). The names are the API's codes, so the Lua script's replies are refusals as they are.
 * `test/refusal-encodings.spec.ts` runs the same cases through all three.
 */
export type Refusal = 'ALREADY_ISSUED' | 'NOT_OPEN' | 'SOLD_OUT' | 'COUPON_NOT_FOUND' | 'USER_GONE' | 'RATE_LIMITED';

/** The issue rate limit's window: RATE_LIMIT_ISSUE_PER_SECOND requests per user and coupon in it. */
export const ISSUE_RATE_WINDOW_MS = 1000;

/** The one answer to each refusal: its code, worded once. */
export function refusalError(couponId: number, refusal: Refusal): DomainError {
  switch (refusal) {
    case 'ALREADY_ISSUED':
      return new DomainError(ErrorCode.ALREADY_ISSUED, `You already hold coupon ${couponId}`);
    case 'NOT_OPEN':
      return new DomainError(ErrorCode.NOT_OPEN, `Coupon ${couponId} cannot be issued now: it is paused, ended, or outside its window`);
    case 'SOLD_OUT':
      return new DomainError(ErrorCode.SOLD_OUT, `Coupon ${couponId} is sold out`);
    case 'COUPON_NOT_FOUND':
      return couponNotFound(couponId);
    case 'USER_GONE':
      return new DomainError(ErrorCode.UNAUTHORIZED, 'The user of this request no longer exists');
    case 'RATE_LIMITED':
      // the window is a second, so the next one is never further than that
      return new DomainError(ErrorCode.RATE_LIMITED, `Too many requests for coupon ${couponId}; retry in 1 s`, { 'Retry-After': '1' });
  }
}

/** Why an issue leaves its holder: given back by them, or revoked by an admin (the history keeps which). */
export type CancelReason = 'GIVEN_BACK' | 'REVOKED';

/**
 * Why a give-back or a revocation does not happen, in the same spirit: NOT_HELD (no such issue
 * now: never issued, already given back, or not this user's) and ALREADY_REDEEMED (a redeemed
 * coupon stays redeemed). Decided by the cancellation statement (issue-canceller.ts).
 */
export type CancelRefusal = 'NOT_HELD' | 'ALREADY_REDEEMED';

/** The one answer to each cancel refusal; NOT_HELD reads as the route's own not-found code. */
export function cancelRefusalError(couponId: number, refusal: CancelRefusal, reason: CancelReason): DomainError {
  if (refusal === 'ALREADY_REDEEMED') {
    return new DomainError(ErrorCode.ALREADY_REDEEMED, 'A redeemed coupon can be neither given back nor revoked');
  }
  return reason === 'GIVEN_BACK'
    ? new DomainError(ErrorCode.NOT_REQUESTED, `You hold no coupon ${couponId} to give back`)
    : new DomainError(ErrorCode.ISSUE_NOT_FOUND, `Coupon ${couponId} has no such issue`);
}
