import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ADMIN_PAGE_CSP } from '../bootstrap/security-headers';

/**
 * `/admin`: a static page (src/admin/public, copied into dist by the build) that logs in and then
 * talks to the same API as anyone else, as an admin. Nothing here bypasses the API's guards: the
 * files are public, the data behind them is not.
 */
export async function serveAdminPage(app: NestFastifyApplication): Promise<void> {
  await app.register(fastifyStatic, {
    root: join(__dirname, 'public'),
    prefix: '/admin/',
    decorateReply: false, // the OpenAPI UI registers this plugin too
    cacheControl: true,
    maxAge: 60_000,
    setHeaders: (response) => response.header('content-security-policy', ADMIN_PAGE_CSP),
  });
  // relative links in the page need the trailing slash
  app
    .getHttpAdapter()
    .getInstance()
    .get('/admin', (_request, reply) => reply.redirect('/admin/', 301));
}
