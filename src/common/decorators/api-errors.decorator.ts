import { applyDecorators } from '@nestjs/common';
import { ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { ERROR_STATUS, ErrorCode } from '../errors/error-code';
import { ErrorResponse, EXAMPLE_MESSAGES } from '../errors/error-response';

/** OpenAPI: the route may answer these codes; one response per status, one example per code. */
export function ApiErrors(...codes: ErrorCode[]): MethodDecorator & ClassDecorator {
  return applyDecorators(...[...groupByStatus(codes)].map(([status, group]) => ApiResponse(errorResponse(status, group))));
}

export function errorResponse(status: number, codes: ErrorCode[]) {
  return {
    status,
    description: codes.join(' or '),
    content: {
      'application/json': {
        schema: { $ref: getSchemaPath(ErrorResponse) },
        examples: Object.fromEntries(
          codes.map((code) => [code, { summary: code, value: { statusCode: status, code, message: EXAMPLE_MESSAGES[code], requestId: 'req-7f3a' } }]),
        ),
      },
    },
  };
}

function groupByStatus(codes: ErrorCode[]): Map<number, ErrorCode[]> {
  const groups = new Map<number, ErrorCode[]>();
  for (const code of codes) groups.set(ERROR_STATUS[code], [...(groups.get(ERROR_STATUS[code]) ?? []), code]);
  return groups;
}
