import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestApp, TestApp } from '../support/test-app';

/** The document as committed, for clients to generate from (`npm run openapi` writes it again). */
const COMMITTED = join(__dirname, '../../docs/openapi.json');

type Operation = { responses: Record<string, { content?: Record<string, { schema?: { $ref?: string }; examples?: Record<string, unknown> }> }> };

/** /docs-json documents every route with its answers: a typed success body and every error code of API.md. */
describe('OpenAPI document', () => {
  let t: TestApp;
  let paths: Record<string, Record<string, Operation>>;
  let served: string;

  beforeAll(async () => {
    t = await startTestApp('redis');
    const doc = await t.http('GET', '/docs-json');
    expect(doc.status).toBe(200);
    paths = doc.body.paths;
    served = JSON.stringify(doc.body, null, 2) + '\n';
  });

  it('is the document committed in docs/openapi.json (after a change to the API: npm run openapi)', () => {
    if (process.env.WRITE_OPENAPI === '1') writeFileSync(COMMITTED, served);
    expect(readFileSync(COMMITTED, 'utf8')).toBe(served);
  });
  afterAll(() => t.close());

  /** The error codes documented for one status of a route. */
  const codes = (path: string, method: string, status: number) =>
    Object.keys(paths[path]?.[method]?.responses[status]?.content?.['application/json']?.examples ?? {}).sort();

  it('serves the routes of the API reference (docs/api.md), no more and no fewer', () => {
    const served = Object.entries(paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    // the routes table's first column: `METHOD /path`, or `/path` after one (the same method)
    const table = readFileSync(join(__dirname, '../../docs/api.md'), 'utf8').split('## Routes')[1].split('\n## ')[0];
    const documented = table
      .split('\n')
      .filter((line) => line.startsWith('| `'))
      .flatMap((line) => {
        let method = '';
        return [...line.split(' | ')[0].matchAll(/`(?:(GET|POST|PATCH|DELETE) )?(\/[^`\s?]*)/g)].map(([, m, path]) => {
          method = m ?? method;
          return `${method} ${path.replace(/:(\w+)/g, '{$1}')}`;
        });
      })
      .filter((route) => route !== 'GET /docs'); // the browsable UI, not a route of the document
    expect([...new Set(documented)].sort()).toEqual([...new Set(served)].sort());
  });

  it('gives every route a success answer with a schema, and every error answer the one error body', () => {
    for (const [path, ops] of Object.entries(paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const statuses = Object.keys(op.responses).map(Number);
        const success = statuses.filter((s) => s < 300);
        expect({ route: `${method} ${path}`, success: success.length > 0 }).toEqual({ route: `${method} ${path}`, success: true });
        for (const s of success) {
          if (s === 204 || path === '/metrics') continue;
          expect({ route: `${method} ${path} ${s}`, typed: Boolean(op.responses[s].content) }).toEqual({ route: `${method} ${path} ${s}`, typed: true });
        }
        for (const s of statuses.filter((s) => s >= 400)) {
          expect({ route: `${method} ${path} ${s}`, ref: op.responses[s].content?.['application/json']?.schema?.$ref }).toEqual({
            route: `${method} ${path} ${s}`,
            ref: '#/components/schemas/ErrorResponse',
          });
        }
      }
    }
  });

  it('names the error codes of API.md on their routes', () => {
    expect(codes('/auth/signup', 'post', 400)).toEqual(['VALIDATION_FAILED']);
    expect(codes('/auth/signup', 'post', 409)).toEqual(['EMAIL_TAKEN']);
    expect(codes('/auth/login', 'post', 401)).toEqual(['INVALID_CREDENTIALS']);
    expect(codes('/users/me', 'get', 401)).toEqual(['UNAUTHORIZED']);
    expect(codes('/coupons', 'post', 403)).toEqual(['FORBIDDEN']);
    expect(codes('/coupons/{id}', 'get', 404)).toEqual(['COUPON_NOT_FOUND']);
    expect(codes('/coupons/{id}', 'patch', 409)).toEqual(['QUANTITY_BELOW_ISSUED']);
    expect(codes('/coupons/{id}', 'delete', 409)).toEqual(['COUPON_HAS_ISSUES']);
    expect(codes('/coupons/{id}/issue', 'post', 409)).toEqual(['ALREADY_ISSUED', 'NOT_OPEN', 'SOLD_OUT']);
    expect(codes('/coupons/{id}/issue', 'post', 429)).toEqual(['RATE_LIMITED']);
    expect(codes('/coupons/{id}/issue', 'post', 503)).toEqual(['UNAVAILABLE']);
    expect(codes('/coupons/{id}/issue', 'get', 404)).toEqual(['COUPON_NOT_FOUND', 'NOT_REQUESTED']);
    for (const [path, method] of [
      ['/coupons/{id}/issues', 'get'],
      ['/coupons/{id}/stats', 'get'],
      ['/coupons/{id}/reconcile', 'post'],
    ]) {
      expect(codes(path, method, 403)).toEqual(['FORBIDDEN']);
      expect(codes(path, method, 404)).toEqual(['COUPON_NOT_FOUND']);
    }
    expect(codes('/health', 'get', 503)).toEqual(['UNAVAILABLE']);
  });

  it('serves the UI at /docs', async () => {
    const ui = await t.http('GET', '/docs');
    expect(ui.status).toBe(200);
    expect(String(ui.body)).toContain('swagger');
  });
});
