import { randomBytes } from 'node:crypto';
import { countStatuses } from '../support/invariants';
import { PrivateRedis } from '../../servers/private-redis';
import { startTestApp } from '../support/test-app';

describe('rate limits', () => {
  it.each([
    ['redis', 201],
    ['queue', 202],
  ] as const)(
    'per user and coupon on issuance (%s), counted by the reservation script and so shared by two instances; 429 RATE_LIMITED with Retry-After',
    async (strategy, granted) => {
      const env = { RATE_LIMIT_ISSUE_PER_SECOND: '4' };
      const [a, b] = [await startTestApp(strategy, env), await startTestApp(strategy, env)];
      try {
        const admin = await a.adminToken();
        const coupon = async () => (await a.http('POST', '/coupons', { token: admin, body: { name: 'limits', totalQuantity: 100 } })).body.id as number;
        const [id, otherId] = [await coupon(), await coupon()];
        const [user, other] = await a.users(2);
        // 10 at once from one user, alternating between the instances
        const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).http('POST', `/coupons/${id}/issue`, { token: user.token })));
        expect(countStatuses(results)).toEqual({ [granted]: 1, 409: 3, 429: 6 });
        const limited = results.find((r) => r.status === 429)!;
        expect(limited.body).toMatchObject({ statusCode: 429, code: 'RATE_LIMITED' });
        expect(Number(limited.headers.get('retry-after'))).toBe(1);
        // another user is not affected, nor the same user on another coupon
        expect((await b.http('POST', `/coupons/${id}/issue`, { token: other.token })).status).toBe(granted);
        expect((await a.http('POST', `/coupons/${otherId}/issue`, { token: user.token })).status).toBe(granted);
        // the limited requests reserved nothing: one unit taken by each of the two users on the first coupon
        expect((await a.http('GET', `/coupons/${id}/stats`, { token: admin })).body).toMatchObject({ redisReserved: 2 });
        // the window is a second: the user's next request after it is counted afresh
        await sleep(1100);
        expect((await a.http('POST', `/coupons/${id}/issue`, { token: user.token })).body).toMatchObject({ code: 'ALREADY_ISSUED' });
      } finally {
        await a.close();
        await b.close();
      }
    },
  );

  it('per user and coupon on issuance (pessimistic: counted in the process, which has no Redis)', async () => {
    const t = await startTestApp('pessimistic', { RATE_LIMIT_ISSUE_PER_SECOND: '4' });
    try {
      const admin = await t.adminToken();
      const coupon = async () => (await t.http('POST', '/coupons', { token: admin, body: { name: 'limits', totalQuantity: 100 } })).body.id as number;
      const [id, otherId] = [await coupon(), await coupon()];
      const [user] = await t.users(1);
      const results = await Promise.all(Array.from({ length: 10 }, () => t.http('POST', `/coupons/${id}/issue`, { token: user.token })));
      expect(countStatuses(results)).toEqual({ 201: 1, 409: 3, 429: 6 });
      expect(results.find((r) => r.status === 429)!.headers.get('retry-after')).toBe('1');
      expect((await t.http('POST', `/coupons/${otherId}/issue`, { token: user.token })).status).toBe(201);
      expect((await t.sql.query(`SELECT count(*)::int AS n FROM coupon_issues WHERE coupon_id = $1`, [id])).rows).toEqual([{ n: 1 }]);
    } finally {
      await t.close();
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

  describe('the log-in slow-down cannot be raced, and is kept per account and address', () => {
    // the proxy in front is this machine: X-Forwarded-For names the client
    const env = { RATE_LIMIT_AUTH_PER_MINUTE: '0', TRUST_PROXY: '127.0.0.1' };

    it.each(['redis', 'pessimistic'] as const)(
      '%s: 30 wrong passwords at once from one address: at most 5 weighed, the rest 429; the owner from elsewhere logs in at once',
      async (strategy) => {
        const a = await startTestApp(strategy, env);
        const b = strategy === 'redis' ? await startTestApp(strategy, env) : a; // with Redis, across two instances
        try {
          const email = `raced-${randomBytes(4).toString('hex')}@example.test`;
          const password = 'the right password';
          expect((await a.http('POST', '/auth/signup', { body: { email, password } })).status).toBe(201);
          const guesses = await Promise.all(
            Array.from({ length: 30 }, (_, i) =>
              (i % 2 ? a : b).http('POST', '/auth/login', { body: { email, password: `guess-${i}` }, headers: from('203.0.113.7') }),
            ),
          );
          const statuses = countStatuses(guesses);
          expect(statuses[401]).toBeGreaterThanOrEqual(1);
          expect(statuses[401]).toBeLessThanOrEqual(5);
          expect(statuses[401] + statuses[429]).toBe(30);
          // the guesser's place has its five free failures at most (those refused were not counted), then waits, even with the right password
          for (let i = statuses[401]; i < 5; i++) {
            expect((await a.http('POST', '/auth/login', { body: { email, password: `late-${i}` }, headers: from('203.0.113.7') })).status).toBe(401);
          }
          expect((await a.http('POST', '/auth/login', { body: { email, password }, headers: from('203.0.113.7') })).status).toBe(429);
          // the owner, elsewhere, is not held up
          const owner = await b.http('POST', '/auth/login', { body: { email, password }, headers: from('198.51.100.2') });
          expect(owner.status).toBe(200);
        } finally {
          await a.close();
          if (b !== a) await b.close();
        }
      },
    );

    it('without TRUST_PROXY a forged X-Forwarded-For changes nothing: the socket address is the place', async () => {
      const a = await startTestApp('pessimistic', { RATE_LIMIT_AUTH_PER_MINUTE: '0' });
      try {
        const email = `forged-${randomBytes(4).toString('hex')}@example.test`;
        expect((await a.http('POST', '/auth/signup', { body: { email, password: 'the right password' } })).status).toBe(201);
        for (let i = 0; i < 5; i++) {
          expect((await a.http('POST', '/auth/login', { body: { email, password: `guess-${i}` }, headers: from(`192.0.2.${i}`) })).status).toBe(401);
        }
        expect((await a.http('POST', '/auth/login', { body: { email, password: 'guess-5' }, headers: from('192.0.2.99') })).status).toBe(429);
      } finally {
        await a.close();
      }
    });

    it('an account-wide bound: 100 failures an hour from 100 addresses, then every address waits', async () => {
      const redis = new PrivateRedis();
      await redis.start();
      const a = await startTestApp('redis', { ...env, REDIS_URL: redis.url });
      try {
        const email = `spread-${randomBytes(4).toString('hex')}@example.test`;
        const password = 'the right password';
        expect((await a.http('POST', '/auth/signup', { body: { email, password } })).status).toBe(201);
        for (let i = 0; i < 100; i++) {
          const res = await a.http('POST', '/auth/login', { body: { email, password: `guess-${i}` }, headers: from(`10.0.${i >> 8}.${i & 255}`) });
          expect(res.status).toBe(401);
        }
        const next = await a.http('POST', '/auth/login', { body: { email, password }, headers: from('10.9.9.9') });
        expect(next).toMatchObject({ status: 429, body: { message: expect.stringMatching(/this hour/) } });
        expect(Number(next.headers.get('retry-after'))).toBeGreaterThan(3000);
      } finally {
        await a.close();
        await redis.kill();
      }
    });
  });

  it('sign-ups have a budget of their own per address (RATE_LIMIT_SIGNUP_PER_HOUR); another address is not affected', async () => {
    const a = await startTestApp('pessimistic', { RATE_LIMIT_SIGNUP_PER_HOUR: '3', TRUST_PROXY: '127.0.0.1' });
    try {
      const signup = (address: string) =>
        a.http('POST', '/auth/signup', {
          body: { email: `budget-${randomBytes(4).toString('hex')}@example.test`, password: 'a fine password' },
          headers: from(address),
        });
      for (let i = 0; i < 3; i++) expect((await signup('203.0.113.20')).status).toBe(201);
      expect((await signup('203.0.113.20')).status).toBe(429);
      // an IPv6 client counts by its /64: another address in the same /64 is the same client
      for (let i = 0; i < 3; i++) expect((await signup(`2001:db8:aa:bb::${i + 1}`)).status).toBe(201);
      expect((await signup('2001:db8:aa:bb:ffff::1')).status).toBe(429);
      expect((await signup('2001:db8:aa:cc::1')).status).toBe(201);
    } finally {
      await a.close();
    }
  });
});

const from = (address: string) => ({ 'x-forwarded-for': address });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
