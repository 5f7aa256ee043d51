import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { errorResponse } from '../common/decorators/api-errors.decorator';
import { ErrorCode } from '../common/errors/error-code';
import { ErrorResponse } from '../common/errors/error-response';

/** OpenAPI at /docs (UI) and /docs-json (the document). */
export function setUpOpenApi(app: INestApplication): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Coupon issuance service')
      .setDescription(
        'First-come-first-served coupons: exactly the total, at most one per user. Every error answers ' +
          '`{statusCode, code, message, requestId}`; match on `code`. Log in with POST /auth/login, then Authorize with the accessToken.',
      )
      .setVersion('1')
      .addServer('/', 'this service')
      .addBearerAuth()
      .build(),
    { extraModels: [ErrorResponse] },
  );
  SwaggerModule.setup('docs', app, addCommonErrors(markPublicOperations(document)), { jsonDocumentUrl: 'docs-json' });
}

/**
 * Routes without a bearer requirement (@Public(): sign-up, log-in, health, metrics) say so with
 * `security: []`, so a generated client knows they take no token (rather than guessing).
 */
export function markPublicOperations(document: OpenAPIObject): OpenAPIObject {
  for (const item of Object.values(document.paths)) {
    for (const method of ['get', 'post', 'patch', 'put', 'delete'] as const) {
      const operation = item[method];
      if (operation && !operation.security) operation.security = [];
    }
  }
  return document;
}

/**
 * The answers every route of a kind can give, added where a route does not list them itself:
 * 401 where a token is needed, 400 where there is input to validate, 413/415 where there is a
 * body, 503 wherever PostgreSQL or Redis is behind the route.
 */
export function addCommonErrors(document: OpenAPIObject): OpenAPIObject {
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of ['get', 'post', 'patch', 'put', 'delete'] as const) {
      const operation = item[method];
      if (!operation) continue;
      const add = (status: number, ...codes: ErrorCode[]) => {
        if (!operation.responses[status]) {
          const { status: _, ...response } = errorResponse(status, codes);
          operation.responses[status] = response;
        }
      };
      if (operation.requestBody || operation.parameters?.some((p) => 'in' in p && p.in !== 'header')) add(400, ErrorCode.VALIDATION_FAILED);
      if (operation.security?.length) add(401, ErrorCode.UNAUTHORIZED);
      if (operation.requestBody) {
        add(413, ErrorCode.PAYLOAD_TOO_LARGE);
        add(415, ErrorCode.UNSUPPORTED_MEDIA_TYPE);
      }
      if (!path.startsWith('/health') && path !== '/metrics' && path !== '/auth/session') add(503, ErrorCode.UNAVAILABLE);
    }
  }
  return document;
}
