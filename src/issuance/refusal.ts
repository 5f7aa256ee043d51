import { couponNotFound, DomainError } from '../common/errors/domain.error';
import { ErrorCode } from '../common/errors/error-code';

/**
 * Why a request for a coupon is not granted: the one vocabulary of every strategy, whichever
 * encoding decided it (TypeScript in `decideBatch`, Lua in `reserve.lua`, SQL in the writer's
 * statement). The names are the API's codes, so the Lua script's replies are refusals as they are.
 * `test/refusal-encodings.spec.ts` runs the same cases through all three.
 */
export type Refusal = 'ALREADY_ISSUED' | 'NOT_OPEN' | 'SOLD_OUT' | 'COUPON_NOT_FOUND' | 'USER_GONE';

/** The one answer to each refusal: its code, worded once. */
export function refusalError(couponId: number, refusal: Refusal): DomainError {
  switch (refusal) {
    case 'ALREADY_ISSUED':
      return new DomainError(ErrorCode.ALREADY_ISSUED, `You already hold coupon ${couponId}`);
    case 'NOT_OPEN':
      return new DomainError(ErrorCode.NOT_OPEN, `Coupon ${couponId} cannot be issued now: its campaign is paused, ended, or outside its window`);
    case 'SOLD_OUT':
      return new DomainError(ErrorCode.SOLD_OUT, `Coupon ${couponId} is sold out`);
    case 'COUPON_NOT_FOUND':
      return couponNotFound(couponId);
    case 'USER_GONE':
      return new DomainError(ErrorCode.UNAUTHORIZED, 'The user of this request no longer exists');
  }
}
