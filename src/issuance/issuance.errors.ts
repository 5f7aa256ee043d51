import { DomainError } from '../common/errors/domain.error';
import { ErrorCode } from '../common/errors/error-code';

export const notRequested = (couponId: number) => new DomainError(ErrorCode.NOT_REQUESTED, `You have not asked for coupon ${couponId}`);

export const isDomainError = (error: unknown, code: ErrorCode): error is DomainError => error instanceof DomainError && error.code === code;
