import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';
import { DomainError } from '../errors/domain.error';
import { ErrorCode } from '../errors/error-code';
import { PG_INT_MAX } from '../validation';

/** What a path id looks like: digits only (no `1e3`, `0x10`, ` 7`), at most the integer column's 10. */
export const ID_TEXT = /^[1-9]\d{0,9}$/;

/** Parses a path id strictly: ID_TEXT, within the integer column's range. */
export function parseId(raw: unknown): number {
  const text = String(raw);
  if (!ID_TEXT.test(text) || Number(text) > PG_INT_MAX) {
    throw new DomainError(ErrorCode.VALIDATION_FAILED, `"${text.slice(0, 40)}" is not a valid id`);
  }
  return Number(text);
}

const readId = createParamDecorator((name: string, ctx: ExecutionContext): number =>
  parseId(ctx.switchToHttp().getRequest<{ params: Record<string, string> }>().params[name]),
);

/**
 * A path id parameter (`:id` unless named) as a number, declared in the OpenAPI document as the
 * integer path parameter it is (a generated client then has a way to pass it). A decorator rather
 * than a pipe, because the global ValidationPipe would first coerce the raw text to a number and
 * hide what was sent.
 */
export function IdParam(name = 'id'): ParameterDecorator {
  return (target, method, index) => {
    readId(name)(target, method, index);
    const schema = { type: 'integer', minimum: 1, maximum: PG_INT_MAX } as const;
    ApiParam({ name, required: true, schema })(target, method!, Object.getOwnPropertyDescriptor(target, method!)!);
  };
}
