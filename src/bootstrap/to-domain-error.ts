import { HttpException } from '@nestjs/common';
import { isDatabaseUnavailable } from '../database/postgres-errors';
import { isRedisUnavailable } from '../redis/redis-errors';
import { DomainError } from '../common/errors/domain.error';
import { ErrorCode } from '../common/errors/error-code';

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: ErrorCode.VALIDATION_FAILED,
  401: ErrorCode.UNAUTHORIZED,
  403: ErrorCode.FORBIDDEN,
  404: ErrorCode.NOT_FOUND,
  413: ErrorCode.PAYLOAD_TOO_LARGE,
  415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
  429: ErrorCode.RATE_LIMITED,
  503: ErrorCode.UNAVAILABLE,
};

/**
 * Classifies anything thrown into a contract error (INTERNAL when it is not understood). It sits
 * with the application's wiring, which may know every layer: the infrastructure's own modules say
 * what an outage of theirs looks like (postgres-errors, redis-errors), and `common/` knows none.
 */
export function toDomainError(exception: unknown): DomainError {
  if (exception instanceof DomainError) return exception;
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const code = CODE_BY_STATUS[status] ?? (status >= 500 ? ErrorCode.INTERNAL : ErrorCode.VALIDATION_FAILED);
    return new DomainError(code, status >= 500 ? 'Internal error' : exception.message);
  }
  if (isDatabaseUnavailable(exception) || isRedisUnavailable(exception))
    return new DomainError(ErrorCode.UNAVAILABLE, 'Service temporarily unavailable, try again');
  // Fastify's own errors (malformed JSON, body too large, bad content type) carry a 4xx statusCode.
  const status = (exception as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const message = exception instanceof Error ? exception.message : 'Bad request';
    return new DomainError(CODE_BY_STATUS[status] ?? ErrorCode.VALIDATION_FAILED, message);
  }
  return new DomainError(ErrorCode.INTERNAL, 'Internal error');
}
