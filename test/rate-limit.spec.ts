import { countStatuses } from './support/invariants';
import { startTestApp } from './support/test-app';

describe('rate limits', () => {
  it('per user on issuance, shared by two instances through Redis; 429 RATE_LIMITED with Retry-After', async () => {
    const env = { RATE_LIMIT_ISSUE_PER_SECOND: '4' };
    const [a, b] = [await startTestApp('redis', env), await startTestApp('redis', env)];
    try {
      const admin = await a.adminToken();
      const id = (await a.http('POST', '/coupons', { token: admin, body: { name: 'limits', totalQuantity: 100 } })).body.id;
      const [user, other] = await a.users(2);
      // 10 at once from one user, alternating between the instances
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).http('POST', `/coupons/${id}/issue`, { token: user.token })),
      );
      expect(countStatuses(results)).toEqual({ 201: 1, 409: 3, 429: 6 });
      const limited = results.find((r) => r.status === 429)!;
      expect(limited.body).toMatchObject({ statusCode: 429, code: 'RATE_LIMITED' });
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // another user is not affected
      expect((await b.http('POST', `/coupons/${id}/issue`, { token: other.token })).status).toBe(201);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('per client IP on /auth/*: password guessing is cut off', async () => {
    const t = await startTestApp('pessimistic', { RATE_LIMIT_AUTH_PER_MINUTE: '5' });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) {
        statuses.push((await t.http('POST', '/auth/login', { body: { email: 'victim@example.test', password: `guess-${i}` } })).status);
      }
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
      // issuance and reads are not counted against /auth
      expect((await t.http('GET', '/health')).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});
