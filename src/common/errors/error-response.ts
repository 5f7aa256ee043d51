import { ApiProperty } from '@nestjs/swagger';
import { ErrorCode } from './error-code';

/** The body of every error answer (built in one place: AllExceptionsFilter). */
export class ErrorResponse {
  @ApiProperty({ example: 409 }) statusCode: number;
  @ApiProperty({ enum: ErrorCode, enumName: 'ErrorCode', example: ErrorCode.SOLD_OUT }) code: ErrorCode;
  @ApiProperty({ description: 'for people; match on `code`', example: 'Coupon 42 is sold out' }) message: string;
  @ApiProperty({ description: 'the X-Request-Id given, or one made; also on every log line of the request', example: '0b8e4c8e-8a5c-4bb0-9d53-1a3e6c1f2a77' })
  requestId: string;
}

/** An example message per code, for the OpenAPI document. */
export const EXAMPLE_MESSAGES: Record<ErrorCode, string> = {
  [ErrorCode.VALIDATION_FAILED]: 'totalQuantity must be an integer number; property userId should not exist',
  [ErrorCode.UNAUTHORIZED]: 'A valid Bearer token is required',
  [ErrorCode.INVALID_CREDENTIALS]: 'Email or password is wrong',
  [ErrorCode.FORBIDDEN]: 'admins only',
  [ErrorCode.NOT_FOUND]: 'Route GET /nowhere not found',
  [ErrorCode.COUPON_NOT_FOUND]: 'Coupon 42 does not exist',
  [ErrorCode.NOT_REQUESTED]: 'You have not asked for coupon 42',
  [ErrorCode.ISSUE_NOT_FOUND]: 'No coupon of yours has this code',
  [ErrorCode.EMAIL_TAKEN]: 'This email is already registered',
  [ErrorCode.SOLD_OUT]: 'Coupon 42 is sold out',
  [ErrorCode.ALREADY_ISSUED]: 'You already hold coupon 42',
  [ErrorCode.NOT_OPEN]: 'Coupon 42 cannot be issued now: it is paused, ended, or outside its window',
  [ErrorCode.ALREADY_REDEEMED]: 'This coupon was redeemed at 2026-11-28T10:00:00.000Z',
  [ErrorCode.ISSUE_EXPIRED]: 'This coupon expired at 2026-12-27T00:00:00.000Z',
  [ErrorCode.QUANTITY_BELOW_ISSUED]: 'totalQuantity 50 is below the 80 already issued',
  [ErrorCode.COUPON_HAS_ISSUES]: 'coupon 42 has issues and cannot be deleted; end it instead',
  [ErrorCode.PAYLOAD_TOO_LARGE]: 'Request body is too large',
  [ErrorCode.UNSUPPORTED_MEDIA_TYPE]: 'Send JSON (Content-Type: application/json)',
  [ErrorCode.RATE_LIMITED]: 'Too many requests; retry after the Retry-After seconds',
  [ErrorCode.UNAVAILABLE]: 'Service temporarily unavailable: retry shortly',
  [ErrorCode.INTERNAL]: 'Internal error; quote the requestId when reporting it',
};
