import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { DomainError } from '../common/errors/domain.error';
import { ErrorCode } from '../common/errors/error-code';

/** 1 to 255 characters (the column's CHECK says the same). */
const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/**
 * The request's `Idempotency-Key` header, or undefined when it has none; 400 when it is empty,
 * longer than 255 characters, or given twice. A decorator of its own rather than `@Headers()`,
 * which would declare the header required in the OpenAPI document (the route's @ApiHeader says
 * it is optional).
 */
export const IdempotencyKey = createParamDecorator((_: unknown, ctx: ExecutionContext): string | undefined => {
  const value = ctx.switchToHttp().getRequest<{ headers: Record<string, string | string[] | undefined> }>().headers['idempotency-key'];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !value || value.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw new DomainError(ErrorCode.VALIDATION_FAILED, `Idempotency-Key must be one header of 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`);
  }
  return value;
});
