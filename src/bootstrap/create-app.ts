import { randomUUID } from 'node:crypto';
import { DynamicModule, NestApplicationOptions } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { serveAdminPage } from '../admin/admin-page';
import { AppModule } from '../app.module';
import { AllExceptionsFilter } from './all-exceptions.filter';
import type { AppConfig } from '../config/app-config';
import { runMigrationsExclusively } from '../database/run-migrations';
import { closeGracefully } from './graceful-close';
import { createRootLogger, nestLogger } from './logger';
import { logRequests } from './request-logging';
import { setUpOpenApi } from './openapi';
import { AppValidationPipe } from './validation-pipe';
import { addSecurityHeaders } from './security-headers';

/** Makes the Nest application from the root module; the benchmark's naive V1 passes one that swaps the strategy. */
export type AppFactory = (root: DynamicModule, adapter: FastifyAdapter, options: NestApplicationOptions) => Promise<NestFastifyApplication>;
const nestFactory: AppFactory = (root, adapter, options) => NestFactory.create<NestFastifyApplication>(root, adapter, options);

/**
 * Builds the HTTP application exactly as production runs it (tests use this too): Fastify,
 * global validation and error filter, OpenAPI at /docs, and the schema migrated before any
 * request is served.
 */
export async function createApp(config: AppConfig, make: AppFactory = nestFactory): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: config.http.bodyLimitBytes,
    // request.ip: the socket's peer unless TRUST_PROXY names the proxies whose X-Forwarded-For counts
    trustProxy: config.http.trustProxy,
    // Honour a caller's request id (a proxy's, a load test's); make one otherwise.
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
    },
  });
  const root = createRootLogger(config.logLevel);
  const app = await make(AppModule.forRoot(config), adapter, {
    logger: nestLogger(root),
    abortOnError: false, // throw start-up errors to the caller (main prints one line) instead of exiting
    bodyParser: false, // JSON only: see acceptJsonOnly
  });
  acceptJsonOnly(app);
  app.useGlobalFilters(new AllExceptionsFilter());
  app.useGlobalPipes(new AppValidationPipe());
  closeGracefully(app);
  await addSecurityHeaders(app);
  logRequests(app, root);
  setUpOpenApi(app);
  await serveAdminPage(app);
  await runMigrationsExclusively(app.get<DataSource>(getDataSourceToken()));
  await app.init();
  return app;
}

/**
 * Bodies are JSON or nothing. Nest would add a form parser (application/x-www-form-urlencoded), and
 * Fastify parses text/plain by default: a cross-site HTML form can send either from a visitor's
 * browser without a preflight, so sign-ups and issues could be made from other sites. Only
 * Fastify's own JSON parser stays; any other media type is a 415 UNSUPPORTED_MEDIA_TYPE before a
 * handler runs.
 */
function acceptJsonOnly(app: NestFastifyApplication): void {
  app.getHttpAdapter().getInstance().removeContentTypeParser('text/plain');
}
