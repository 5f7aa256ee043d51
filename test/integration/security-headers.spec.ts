import { ADMIN_PAGE_CSP } from '../../src/bootstrap/security-headers';
import { startTestApp, TestApp } from '../support/test-app';

/** helmet's headers on the API, and a strict Content-Security-Policy on the admin page. */
describe('security headers', () => {
  let t: TestApp;
  beforeAll(async () => (t = await startTestApp('pessimistic')));
  afterAll(() => t.close());

  it('the API answers with nosniff, no referrer, no framing, HSTS', async () => {
    for (const path of ['/health/live', '/coupons', '/nowhere']) {
      const { headers } = await t.http('GET', path);
      expect(headers.get('x-content-type-options')).toBe('nosniff');
      expect(headers.get('referrer-policy')).toBe('no-referrer');
      expect(headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
    }
  });

  it("the admin page's files carry the strict policy: only its own origin, framed by nobody", async () => {
    for (const file of ['/admin/', '/admin/admin.js', '/admin/admin.css']) {
      const res = await t.http('GET', file);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-security-policy')).toBe(ADMIN_PAGE_CSP);
    }
    expect(ADMIN_PAGE_CSP).toMatch(/default-src 'self'/);
    expect(ADMIN_PAGE_CSP).toMatch(/frame-ancestors 'none'/);
  });
});
