import { setTimeout as sleep } from 'node:timers/promises';
import { fire } from '../../support/burst';
import { couponUnderWay, reconcileAndRefill } from '../../support/coupon-under-way';
import { expectHistoryHolds } from '../../support/history';
import { untilReady } from '../../support/http';
import { countStatuses } from '../../support/invariants';
import { PrivatePostgres } from '../../../servers/private-postgres';
import { PrivateRedis } from '../../../servers/private-redis';
import { holdCouponRow, untilLockWaiters } from '../../support/row-lock';
import { startTestApp, TestApp } from '../../support/test-app';

/**
 * Faults on real processes: a PostgreSQL of the test's own stopped mid-burst and started again, and a pool with no connection to spare. After each, the client-side history is checked against
 * PostgreSQL (support/history.ts).
 */
jest.setTimeout(180_000);

describe.each(['pessimistic', 'redis'] as const)('PostgreSQL stopped mid-burst and started again (%s)', (strategy) => {
  let pg: PrivatePostgres;
  const redis = new PrivateRedis();
  let t: TestApp;

  beforeAll(async () => {
    pg = new PrivatePostgres();
    await pg.start();
    await redis.start();
    t = await startTestApp(strategy, {
      DATABASE_URL: pg.url,
      REDIS_URL: redis.url,
      RATE_LIMIT_ISSUE_PER_SECOND: '0',
      DB_ACQUIRE_TIMEOUT_MS: '1000',
    });
  });
  afterAll(async () => {
    await t?.close();
    await pg?.destroy();
    await redis.kill();
  });

  it('answers fast 503s while it is down, recovers by itself, and leaves no half-written state', async () => {
    const { admin, id, users, history } = await couponUnderWay(t, 180, 'pg outage', 300, 60);

    const known = users.slice(200, 220);
    for (const u of known) expect((await t.http('GET', `/coupons/${id}`, { token: u.token })).status).toBe(200);
    // stop it while a wave is in flight
    const wave = fire(t.http, id, users.slice(60, 160));
    await sleep(15);
    await pg.stop('fast');
    const during = await wave;
    history.push(...during);
    // users never seen (their lookup cannot be made) and users looked up before (their write cannot be made)
    const down = await fire(t.http, id, [...users.slice(160, 200), ...known]);
    history.push(...down);
    expect(countStatuses(down)).toEqual({ 503: 60 });
    expect(down.every((a) => a.code === 'UNAVAILABLE')).toBe(true);
    expect(Math.max(...down.map((a) => a.ms))).toBeLessThan(3000);
    expect((await t.http('GET', '/health/ready')).status).toBe(503);
    expect((await t.http('GET', '/health/live')).status).toBe(200);

    await pg.start();
    await untilReady(t.http);
    // everyone who did not get an answer they can rely on asks again, with the rest
    const settled = new Set(during.filter((a) => a.status === 201 || a.code === 'SOLD_OUT').map((a) => a.userId));
    history.push(
      ...(await fire(
        t.http,
        id,
        users.slice(60).filter((u) => !settled.has(u.userId)),
      )),
    );
    await expectHistoryHolds(t.sql, id, history);
    await reconcileAndRefill(t, admin, id, history, users);
    // an outage is a 503 wherever it strikes, never an internal error
    expect(history.filter((a) => a.status === 500)).toEqual([]);
  });
});

describe('PostgreSQL stopped while accepted requests are being written (queue)', () => {
  it('keeps accepting from users it knows, and every 202 ends ISSUED, once, after PostgreSQL is back', async () => {
    const pg = new PrivatePostgres();
    const redis = new PrivateRedis();
    await pg.start();
    await redis.start();
    const t = await startTestApp('queue', { DATABASE_URL: pg.url, REDIS_URL: redis.url, RATE_LIMIT_ISSUE_PER_SECOND: '0' });
    try {
      const admin = await t.adminToken();
      const id = await t.createCoupon(admin, 100, 'queue, pg outage');
      const users = await t.users(160);
      const accepted = await fire(t.http, id, users.slice(0, 80));
      expect(countStatuses(accepted)).toEqual({ 202: 80 });
      // users[80..140) were looked up before the outage (they read the coupon); users[140..] never were
      for (const u of users.slice(80, 140)) expect((await t.http('GET', `/coupons/${id}`, { token: u.token })).status).toBe(200);
      const signup = { email: `pg-outage-${id}@example.test`, password: 'a long enough password' };
      const signedUp = await t.http('POST', '/auth/signup', { body: signup });
      expect(signedUp.status).toBe(201);
      const loggedIn = (await t.http('POST', '/auth/login', { body: signup })).body.accessToken as string;

      await pg.stop('immediate'); // as a crash, while the workers write
      // Redis alone decides and accepts: known users (looked up or logged in) are served through the outage
      const byLoggedIn = await t.http('POST', `/coupons/${id}/issue`, { token: loggedIn });
      expect(byLoggedIn.status).toBe(202);
      const during = await fire(t.http, id, users.slice(80, 140));
      expect(countStatuses(during)).toEqual({ 202: 19, 409: 41 });
      expect(during.filter((a) => a.status === 409).every((a) => a.code === 'SOLD_OUT')).toBe(true);
      // a user never seen cannot be checked: a fast 503
      const strangers = await fire(t.http, id, users.slice(140));
      expect(countStatuses(strangers)).toEqual({ 503: 20 });
      expect(Math.max(...strangers.map((a) => a.ms))).toBeLessThan(3000);
      // polling a pending request needs only Redis
      const pendingUser = users.find((u) => u.userId === during.find((a) => a.status === 202)!.userId)!;
      expect((await t.http('GET', `/coupons/${id}/issue`, { token: pendingUser.token })).body).toEqual({ status: 'PENDING' });
      await sleep(2000);
      await pg.start();
      await untilReady(t.http);

      for (const started = Date.now(); ; await sleep(200)) {
        const stats = (await t.http('GET', `/coupons/${id}/stats`, { token: admin })).body;
        if (stats.pending === 0 && stats.issuedRows === 100) break;
        if (Date.now() - started > 90_000) throw new Error(`not settled: ${JSON.stringify(stats)}`);
      }
      for (const a of [...accepted, ...during].filter((r) => r.status === 202)) {
        const token = users.find((u) => u.userId === a.userId)!.token;
        expect((await t.http('GET', `/coupons/${id}/issue`, { token })).body.status).toBe('ISSUED');
      }
      expect((await t.http('GET', `/coupons/${id}/issue`, { token: loggedIn })).body.status).toBe('ISSUED');
      const byLoggedInAttempt = { userId: signedUp.body.id as number, status: byLoggedIn.status };
      await expectHistoryHolds(t.sql, id, [...accepted, byLoggedInAttempt, ...during, ...strangers]);
    } finally {
      await t.close();
      await pg.destroy();
      await redis.kill();
    }
  });
});

describe('PostgreSQL pool exhausted (pessimistic, DB_POOL_SIZE=1)', () => {
  it('a request that cannot get a connection answers a fast 503; when the pool frees up, everything proceeds', async () => {
    const t = await startTestApp('pessimistic', {
      DB_POOL_SIZE: '1',
      DB_ACQUIRE_TIMEOUT_MS: '300',
      DB_LOCK_TIMEOUT_MS: '5000',
      RATE_LIMIT_ISSUE_PER_SECOND: '0',
    });
    let lock: { release: () => Promise<void> } | undefined;
    try {
      const admin = await t.adminToken();
      const [a, b] = [await t.createCoupon(admin, 5, 'locked'), await t.createCoupon(admin, 5, 'starved')];
      const [u1, u2, u3] = await t.users(3);
      // another session holds coupon a's row: the one pooled connection waits on that lock
      lock = await holdCouponRow(t.sql, a);
      const stuck = t.http('POST', `/coupons/${a}/issue`, { token: u1.token });
      await untilLockWaiters(t.sql);
      const starved = await t.http('POST', `/coupons/${b}/issue`, { token: u2.token });
      expect(starved.status).toBe(503);
      expect(starved.body.code).toBe('UNAVAILABLE');
      expect(starved.ms).toBeLessThan(1500);
      // an operator sees why: the one connection is taken
      const metrics = String((await t.http('GET', '/metrics')).body);
      expect(metrics).toMatch(/db_pool_connections\{state="total"\} 1\n/);
      expect(metrics).toMatch(/db_pool_connections\{state="idle"\} 0\n/);
      expect(metrics).toMatch(/db_pool_max 1\n/);

      await lock.release();
      expect((await stuck).status).toBe(201);
      expect((await t.http('POST', `/coupons/${b}/issue`, { token: u2.token })).status).toBe(201);
      expect((await t.http('POST', `/coupons/${b}/issue`, { token: u3.token })).status).toBe(201);
      const history = [
        { userId: u2.userId, status: 503 },
        { userId: u2.userId, status: 201 },
        { userId: u3.userId, status: 201 },
      ];
      await expectHistoryHolds(t.sql, b, history);
      await expectHistoryHolds(t.sql, a, [{ userId: u1.userId, status: 201 }]);
    } finally {
      await lock?.release();
      await t.close();
    }
  });
});
