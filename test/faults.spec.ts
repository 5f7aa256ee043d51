import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import Redis from 'ioredis';
import type { LoadTestUser } from '../src/loadtest/load-test-users';
import { Attempt, expectHistoryHolds } from './support/history';
import { countStatuses } from './support/invariants';
import { PrivatePostgres } from './support/private-postgres';
import { PrivateRedis } from './support/private-redis';
import { startTestApp, TestApp } from './support/test-app';
import { kill, startApiProcess } from './support/service-process';

/**
 * Faults on real processes: a PostgreSQL and a Redis of the test's own are stopped, paused,
 * filled up and started again under load; the API process gets SIGTERM mid-request. After each,
 * the client-side history is checked against PostgreSQL (support/history.ts).
 */
jest.setTimeout(180_000);

async function fire(t: TestApp, couponId: number, users: LoadTestUser[]): Promise<(Attempt & { ms: number })[]> {
  return Promise.all(
    users.map(async (u) => {
      const started = performance.now();
      try {
        const res = await t.http('POST', `/coupons/${couponId}/issue`, { token: u.token });
        return { userId: u.userId, status: res.status, code: res.body?.code, ms: res.ms };
      } catch {
        return { userId: u.userId, status: 0, ms: performance.now() - started };
      }
    }),
  );
}

async function untilHealthy(t: TestApp, withinMs = 30_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while ((await t.http('GET', '/health/ready').then((r) => r.status, () => 0)) !== 200) {
    if (Date.now() > deadline) throw new Error(`not ready again within ${withinMs} ms`);
    await sleep(100);
  }
}

/** After reconcile, whoever was refused asks again: stock left means issues, never SOLD_OUT. */
async function reconcileAndRefill(t: TestApp, admin: string, couponId: number, history: Attempt[], users: LoadTestUser[]): Promise<void> {
  expect((await t.http('POST', `/coupons/${couponId}/reconcile`, { token: admin })).status).toBe(200);
  const holders = new Set((await t.sql.query('SELECT user_id FROM coupon_issues WHERE coupon_id = $1', [couponId])).rows.map((r) => r.user_id));
  const again = await fire(t, couponId, users.filter((u) => !holders.has(u.userId)));
  history.push(...again);
  const facts = await expectHistoryHolds(t.sql, couponId, history);
  // more users than stock asked after recovery: every unit went to someone
  expect(facts.rows).toBe(facts.total);
}

/** A campaign of `total` coupons and `count` users, the first `served` of whom got one each. */
async function campaignUnderWay(t: TestApp, total: number, name: string, count: number, served: number) {
  const admin = await t.adminToken();
  const id = await t.createCoupon(admin, total, name);
  const users = await t.users(count);
  const history: Attempt[] = await fire(t, id, users.slice(0, served));
  expect(countStatuses(history)).toEqual({ 201: served });
  return { admin, id, users, history };
}

/** The redis strategy on a Redis of the test's own (with these redis-server arguments); both stopped after. */
async function onOwnRedis(args: string[], run: (t: TestApp, redis: PrivateRedis) => Promise<void>): Promise<void> {
  const redis = new PrivateRedis(args);
  await redis.start();
  const t = await startTestApp('redis', { REDIS_URL: redis.url, RATE_LIMIT_ISSUE_PER_SECOND: '0' });
  try {
    await run(t, redis);
  } finally {
    await t.close();
    redis.resume(); // in case it was left paused
    await redis.kill();
  }
}

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
    const { admin, id, users, history } = await campaignUnderWay(t, 180, 'pg outage', 300, 60);

    const known = users.slice(200, 220);
    for (const u of known) expect((await t.http('GET', `/coupons/${id}`, { token: u.token })).status).toBe(200);
    // stop it while a wave is in flight
    const wave = fire(t, id, users.slice(60, 160));
    await sleep(15);
    await pg.stop('fast');
    const during = await wave;
    history.push(...during);
    // users never seen (their lookup cannot be made) and users looked up before (their write cannot be made)
    const down = await fire(t, id, [...users.slice(160, 200), ...known]);
    history.push(...down);
    expect(countStatuses(down)).toEqual({ 503: 60 });
    expect(down.every((a) => a.code === 'UNAVAILABLE')).toBe(true);
    expect(Math.max(...down.map((a) => a.ms))).toBeLessThan(3000);
    expect((await t.http('GET', '/health/ready')).status).toBe(503);
    expect((await t.http('GET', '/health/live')).status).toBe(200);

    await pg.start();
    await untilHealthy(t);
    // everyone who did not get an answer they can rely on asks again, with the rest
    const settled = new Set(during.filter((a) => a.status === 201 || a.code === 'SOLD_OUT').map((a) => a.userId));
    history.push(...(await fire(t, id, users.slice(60).filter((u) => !settled.has(u.userId)))));
    await expectHistoryHolds(t.sql, id, history);
    await reconcileAndRefill(t, admin, id, history, users);
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
      const accepted = await fire(t, id, users.slice(0, 80));
      expect(countStatuses(accepted)).toEqual({ 202: 80 });
      // users[80..140) were looked up before the outage (they read the campaign); users[140..] never were
      for (const u of users.slice(80, 140)) expect((await t.http('GET', `/coupons/${id}`, { token: u.token })).status).toBe(200);
      const signup = { email: `pg-outage-${id}@example.test`, password: 'a long enough password' };
      const signedUp = await t.http('POST', '/auth/signup', { body: signup });
      expect(signedUp.status).toBe(201);
      const loggedIn = (await t.http('POST', '/auth/login', { body: signup })).body.accessToken as string;

      await pg.stop('immediate'); // as a crash, while the workers write
      // Redis alone decides and accepts: known users (looked up or logged in) are served through the outage
      const byLoggedIn = await t.http('POST', `/coupons/${id}/issue`, { token: loggedIn });
      expect(byLoggedIn.status).toBe(202);
      const during = await fire(t, id, users.slice(80, 140));
      expect(countStatuses(during)).toEqual({ 202: 19, 409: 41 });
      expect(during.filter((a) => a.status === 409).every((a) => a.code === 'SOLD_OUT')).toBe(true);
      // a user never seen cannot be checked: a fast 503
      const strangers = await fire(t, id, users.slice(140));
      expect(countStatuses(strangers)).toEqual({ 503: 20 });
      expect(Math.max(...strangers.map((a) => a.ms))).toBeLessThan(3000);
      // polling a pending request needs only Redis
      const pendingUser = users.find((u) => u.userId === during.find((a) => a.status === 202)!.userId)!;
      expect((await t.http('GET', `/coupons/${id}/issue`, { token: pendingUser.token })).body).toEqual({ status: 'PENDING' });
      await sleep(2000);
      await pg.start();
      await untilHealthy(t);

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

describe('Redis faults (redis strategy, a Redis of the test’s own)', () => {
  it('paused (SIGSTOP) for 10 s: fast 503s, not hung requests; resumed: serves again, and lost answers are made good', () =>
    onOwnRedis([], async (t, redis) => {
      const { admin, id, users, history } = await campaignUnderWay(t, 100, 'redis paused', 160, 40);

      redis.pause();
      const paused = await fire(t, id, users.slice(40, 100));
      history.push(...paused);
      expect(countStatuses(paused)).toEqual({ 503: 60 });
      // bounded by the command timeout (2 s; a script may be sent twice), not by the 10 s pause
      expect(Math.max(...paused.map((a) => a.ms))).toBeLessThan(6000);
      const ready = await t.http('GET', '/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.ms).toBeLessThan(3000);
      await sleep(10_000 - Math.max(...paused.map((a) => a.ms)) - ready.ms);
      redis.resume();

      await untilHealthy(t);
      // the paused requests' scripts ran when Redis woke up, after their callers had been told 503:
      // asking again gets the coupon that was reserved for them
      const retried = await fire(t, id, users.slice(40, 100));
      history.push(...retried);
      expect(countStatuses(retried)).toEqual({ 201: 60 });
      history.push(...(await fire(t, id, users.slice(100))));
      await expectHistoryHolds(t.sql, id, history);
      await reconcileAndRefill(t, admin, id, history, users);
    }));

  it('restarted empty (no append-only file): the state is rebuilt from PostgreSQL, nobody holds two, nothing oversold', () =>
    // later arguments win: nothing survives a restart
    onOwnRedis(['--appendonly', 'no'], async (t, redis) => {
      const { admin, id, users, history } = await campaignUnderWay(t, 60, 'redis amnesia', 120, 40);

      await redis.kill();
      await redis.start();
      const probe = new Redis(redis.url);
      expect(await probe.dbsize()).toBe(0); // really empty
      probe.disconnect();
      await untilHealthy(t);
      // the first 40 ask again (they hold one), with 80 newcomers for the 20 left
      const after = await fire(t, id, users);
      history.push(...after);
      expect(countStatuses(after)).toEqual({ 201: 20, 409: 100 });
      const holders = new Set(users.slice(0, 40).map((u) => u.userId));
      expect(after.filter((a) => holders.has(a.userId)).every((a) => a.code === 'ALREADY_ISSUED')).toBe(true);
      const facts = await expectHistoryHolds(t.sql, id, history);
      expect(facts.rows).toBe(60);
      expect((await t.http('GET', `/coupons/${id}/stats`, { token: admin })).body).toMatchObject({ issuedRows: 60, redisReserved: 60, pending: 0 });
    }));

  it('at maxmemory (noeviction): 503 UNAVAILABLE and nothing half-reserved; memory freed: serves again', () =>
    onOwnRedis(['--maxmemory-policy', 'noeviction'], async (t, redis) => {
      const { admin: token, id, users, history } = await campaignUnderWay(t, 50, 'redis full', 80, 20);
      const admin = new Redis(redis.url); // Redis's own admin, to fill it up
      try {
        // Redis full: its limit set below what it already holds, so every write is refused
        const used = Number((await admin.info('memory')).match(/^used_memory:(\d+)/m)![1]);
        await admin.config('SET', 'maxmemory', String(Math.floor(used / 2)));
        await expect(admin.set('probe', 'x')).rejects.toThrow(/^OOM/);
        const full = await fire(t, id, users.slice(20, 40));
        history.push(...full);
        expect(countStatuses(full)).toEqual({ 503: 20 });
        expect(full.every((a) => a.code === 'UNAVAILABLE')).toBe(true);
        // nothing half-reserved: Redis still counts the 20 that were written, no more
        expect((await t.http('GET', `/coupons/${id}/stats`, { token })).body).toMatchObject({ issuedRows: 20, redisReserved: 20, pending: 0 });

        await admin.config('SET', 'maxmemory', '0'); // room again
        history.push(...(await fire(t, id, users.slice(20))));
        await expectHistoryHolds(t.sql, id, history);
        await reconcileAndRefill(t, token, id, history, users);
      } finally {
        admin.disconnect();
      }
    }));
});

describe('PostgreSQL pool exhausted (pessimistic, DB_POOL_SIZE=1)', () => {
  it('a request that cannot get a connection answers a fast 503; when the pool frees up, everything proceeds', async () => {
    const t = await startTestApp('pessimistic', {
      DB_POOL_SIZE: '1',
      DB_ACQUIRE_TIMEOUT_MS: '300',
      DB_LOCK_TIMEOUT_MS: '5000',
      RATE_LIMIT_ISSUE_PER_SECOND: '0',
    });
    const blocker = await t.sql.connect();
    try {
      const admin = await t.adminToken();
      const [a, b] = [await t.createCoupon(admin, 5, 'locked'), await t.createCoupon(admin, 5, 'starved')];
      const [u1, u2, u3] = await t.users(3);
      // another session holds coupon a's row: the one pooled connection waits on that lock
      await blocker.query('BEGIN');
      await blocker.query('SELECT * FROM coupons WHERE id = $1 FOR UPDATE', [a]);
      const stuck = t.http('POST', `/coupons/${a}/issue`, { token: u1.token });
      await sleep(200);
      const starved = await t.http('POST', `/coupons/${b}/issue`, { token: u2.token });
      expect(starved.status).toBe(503);
      expect(starved.body.code).toBe('UNAVAILABLE');
      expect(starved.ms).toBeLessThan(1500);
      // an operator sees why: the one connection is taken
      const metrics = String((await t.http('GET', '/metrics')).body);
      expect(metrics).toMatch(/db_pool_connections\{state="total"\} 1\n/);
      expect(metrics).toMatch(/db_pool_connections\{state="idle"\} 0\n/);
      expect(metrics).toMatch(/db_pool_max 1\n/);

      await blocker.query('ROLLBACK');
      expect((await stuck).status).toBe(201);
      expect((await t.http('POST', `/coupons/${b}/issue`, { token: u2.token })).status).toBe(201);
      expect((await t.http('POST', `/coupons/${b}/issue`, { token: u3.token })).status).toBe(201);
      const history = [{ userId: u2.userId, status: 503 }, { userId: u2.userId, status: 201 }, { userId: u3.userId, status: 201 }];
      await expectHistoryHolds(t.sql, b, history);
      await expectHistoryHolds(t.sql, a, [{ userId: u1.userId, status: 201 }]);
    } finally {
      await blocker.query('ROLLBACK').catch(() => undefined);
      blocker.release();
      await t.close();
    }
  });
});

describe('graceful shutdown of a real API process (SIGTERM)', () => {
  let api: { child: ChildProcess; baseUrl: string } | undefined;
  afterEach(async () => {
    if (api) await kill(api.child);
  });

  it('finishes the requests in flight before exiting, and drops nothing it said yes to', async () => {
    // the helper app is only used for setup and SQL; the process under test is separate
    const t = await startTestApp('pessimistic');
    const blocker = await t.sql.connect();
    try {
      const admin = await t.adminToken();
      const id = await t.createCoupon(admin, 30, 'sigterm');
      const users = await t.users(40);
      api = await startApiProcess({ ISSUANCE_STRATEGY: 'pessimistic', DB_LOCK_TIMEOUT_MS: '10000', RATE_LIMIT_ISSUE_PER_SECOND: '0' });
      const exited = new Promise<{ code: number | null; signal: string | null; at: number }>((resolve) =>
        api!.child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })),
      );

      // hold the coupon's row so that every request is in flight when SIGTERM comes
      await blocker.query('BEGIN');
      await blocker.query('SELECT * FROM coupons WHERE id = $1 FOR UPDATE', [id]);
      const inFlight = Promise.all(
        users.map(async (u) => {
          const res = await fetch(`${api!.baseUrl}/coupons/${id}/issue`, { method: 'POST', headers: { authorization: `Bearer ${u.token}` } });
          return { userId: u.userId, status: res.status, code: ((await res.json()) as { code?: string }).code };
        }),
      );
      await sleep(500);
      api.child.kill('SIGTERM');
      await sleep(500);
      // new connections are refused once it is closing
      const late = await fetch(`${api.baseUrl}/health/live`).then((r) => r.status, () => 0);
      expect([0, 503]).toContain(late);
      await blocker.query('ROLLBACK');

      const answered = await inFlight; // throws if any request was dropped without an answer
      const answeredAt = performance.now();
      expect(countStatuses(answered)).toEqual({ 201: 30, 409: 10 });
      // Nest closes everything, then ends the process with the signal it got
      const exit = await exited;
      expect(exit.code === 0 || exit.signal === 'SIGTERM').toBe(true);
      expect(exit.at - answeredAt).toBeLessThan(5000); // not held open by idle keep-alive sockets
      await expectHistoryHolds(t.sql, id, answered);
    } finally {
      blocker.release();
      await t.close();
    }
  });
});
