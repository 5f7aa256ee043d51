import { countStatuses } from '../support/invariants';
import { PrivateRedis } from '../support/private-redis';
import { startTestApp } from '../support/test-app';

describe('rate limits', () => {
  it('per user on issuance, shared by two instances through Redis; 429 RATE_LIMITED with Retry-After', async () => {
    const env = { RATE_LIMIT_ISSUE_PER_SECOND: '4' };
    const [a, b] = [await startTestApp('redis', env), await startTestApp('redis', env)];
    try {
      const admin = await a.adminToken();
      const id = (await a.http('POST', '/coupons', { token: admin, body: { name: 'limits', totalQuantity: 100 } })).body.id;
      const [user, other] = await a.users(2);
      // 10 at once from one user, alternating between the instances
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).http('POST', `/coupons/${id}/issue`, { token: user.token })));
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

  it('per client IP on /auth/*, shared by two instances through Redis: guessing across accounts is cut off', async () => {
    // a Redis of its own: other suites' log-ins from this same IP must not count here
    const redis = new PrivateRedis();
    await redis.start();
    const env = { RATE_LIMIT_AUTH_PER_MINUTE: '5', REDIS_URL: redis.url };
    const [a, b] = [await startTestApp('redis', env), await startTestApp('redis', env)];
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) {
        // a different account each time: only the per-IP limit can stop this
        const body = { email: `victim-${i}@example.test`, password: `guess-${i}` };
        statuses.push((await (i % 2 ? a : b).http('POST', '/auth/login', { body })).status);
      }
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
      // issuance and reads are not counted against /auth
      expect((await a.http('GET', '/health')).status).toBe(200);
    } finally {
      await a.close();
      await b.close();
      await redis.kill();
    }
  });

  it.each(['redis', 'pessimistic'] as const)(
    'per account on log-in (%s): after 5 failures every attempt waits, doubling (across instances, with Redis); a success forgets',
    async (strategy) => {
      // the per-IP limit is off here: what is tested is the per-account wait alone
      const env = { RATE_LIMIT_AUTH_PER_MINUTE: '0' };
      const a = await startTestApp(strategy, env);
      // without Redis, the count lives in the process: one instance is what can be promised
      const b = strategy === 'redis' ? await startTestApp(strategy, env) : a;
      try {
        const email = `guessed-${Date.now()}-${strategy}@example.test`;
        const password = 'the right password';
        expect((await a.http('POST', '/auth/signup', { body: { email, password } })).status).toBe(201);
        const login = (t: typeof a, pw: string) => t.http('POST', '/auth/login', { body: { email, password: pw } });

        for (let i = 0; i < 5; i++) expect((await login(i % 2 ? a : b, `guess-${i}`)).status).toBe(401);
        // now even the right password waits (1 s), on either instance
        const held = await login(b, password);
        expect(held.status).toBe(429);
        expect(held.body).toMatchObject({ code: 'RATE_LIMITED', message: expect.stringMatching(/failed log-ins for this account/) });
        expect(Number(held.headers.get('retry-after'))).toBe(1);
        expect((await login(a, 'guess-5')).status).toBe(429); // a refused attempt is not even checked
        // another account is not affected
        const other = `bystander-${Date.now()}-${strategy}@example.test`;
        expect((await a.http('POST', '/auth/signup', { body: { email: other, password } })).status).toBe(201);
        expect((await a.http('POST', '/auth/login', { body: { email: other, password } })).status).toBe(200);

        await sleep(1100);
        expect((await login(a, 'guess-6')).status).toBe(401); // the 6th failure: the wait doubles to 2 s
        const longer = await login(b, password);
        expect(longer.status).toBe(429);
        expect(Number(longer.headers.get('retry-after'))).toBe(2);
        await sleep(2100);
        expect((await login(b, password)).status).toBe(200); // a success forgets the failures
        expect((await login(a, 'one more slip')).status).toBe(401);
        expect((await login(a, password)).status).toBe(200);
      } finally {
        await a.close();
        if (b !== a) await b.close();
      }
    },
  );
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
