import { DomainError } from '../common/errors/domain.error';
import { ErrorCode } from '../common/errors/error-code';

export const soldOut = (couponId: number) => new DomainError(ErrorCode.SOLD_OUT, `Coupon ${couponId} is sold out`);
export const alreadyIssued = (couponId: number) =>
  new DomainError(ErrorCode.ALREADY_ISSUED, `You already hold coupon ${couponId}`);
export const notOpen = (couponId: number, reason: string) =>
  new DomainError(ErrorCode.NOT_OPEN, `Coupon ${couponId} cannot be issued now: ${reason}`);
export const notRequested = (couponId: number) =>
  new DomainError(ErrorCode.NOT_REQUESTED, `You have not asked for coupon ${couponId}`);

export const isDomainError = (error: unknown, code: ErrorCode): error is DomainError =>
  error instanceof DomainError && error.code === code;
