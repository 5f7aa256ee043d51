import { ErrorCode } from './error-code';

/**
 * The only error services throw on purpose. It carries a contract code; the exception filter
 * turns it into a status and body, so services never know about HTTP.
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra response headers (e.g. Retry-After). */
    readonly headers?: Record<string, string>,
  ) {
    // An answer, not a fault: no stack trace. Capturing one was a twentieth of the CPU of a refusal
    // (profiled under the sold-out load), and nothing reads it: the filter logs only faults' stacks.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.name = 'DomainError';
  }
}

export const couponNotFound = (id: number) => new DomainError(ErrorCode.COUPON_NOT_FOUND, `Coupon ${id} does not exist`);
export const unavailable = (why: string) => new DomainError(ErrorCode.UNAVAILABLE, `Service temporarily unavailable: ${why}`);
