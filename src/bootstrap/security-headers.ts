import helmet from '@fastify/helmet';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

/**
 * The admin page runs nothing it did not load from here: no inline script or style, no frames
 * around it, no form posting elsewhere. The browser test drives the page under this policy.
 */
export const ADMIN_PAGE_CSP = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

/**
 * helmet's headers on every answer (nosniff, a referrer policy, no framing, HSTS, cross-origin
 * isolation of what is not meant to be shared). Its Content-Security-Policy is left off here: the
 * API answers JSON, and the OpenAPI UI at /docs runs inline script; the admin page sets a strict
 * one of its own (ADMIN_PAGE_CSP, in admin-page.ts).
 */
export async function addSecurityHeaders(app: NestFastifyApplication): Promise<void> {
  await app.register(helmet, { contentSecurityPolicy: false, referrerPolicy: { policy: 'no-referrer' } });
}
