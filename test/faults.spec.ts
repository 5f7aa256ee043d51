import type { ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { warnIfNotDurable } from '../src/redis/redis.module';
import type { LoadTestUser } from '../load-test-users';
import { Attempt, expectHistoryHolds } from './support/history';
import { untilReady } from './support/http';
import { countStatuses, couponFacts } from './support/invariants';
import { PrivatePostgres } from './support/private-postgres';
import { PrivateRedis } from './support/private-redis';
import { startTestApp, TestApp } from './support/test-app';
import { untilIdle, untilWorkersConnected } from './support/queue-state';
import { kill, startApiProcess, startWorkerProcess } from './support/service-process';

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

/** After reconcile, whoever was refused asks again: stock left means issues, never SOLD_OUT. */
async function reconcileAndRefill(t: TestApp, admin: string, couponId: number, history: Attempt[], users: LoadTestUser[]): Promise<void> {
  expect((await t.http('POST', `/coupons/${couponId}/reconcile`, { token: admin })).status).toBe(200);
  const holders = new Set((await t.sql.query('SELECT user_id FROM coupon_issues WHERE coupon_id = $1', [couponId])).rows.map((r) => r.user_id));
  const again = await fire(
    t,
    couponId,
    users.filter((u) => !holders.has(u.userId)),
  );
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

/** Kills a Redis run without its append-only file and starts it again: it comes back with nothing. */
async function restartEmpty(redis: PrivateRedis): Promise<void> {
  await redis.kill();
  await redis.start();
  const probe = new Redis(redis.url);
  expect(await probe.dbsize()).toBe(0); // really empty
  probe.disconnect();
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
    await untilReady(t.http);
    // everyone who did not get an answer they can rely on asks again, with the rest
    const settled = new Set(during.filter((a) => a.status === 201 || a.code === 'SOLD_OUT').map((a) => a.userId));
    history.push(
      ...(await fire(
        t,
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

      await untilReady(t.http);
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

      await restartEmpty(redis);
      await untilReady(t.http);
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

describe('Redis restarted empty under the queue strategy (a Redis of the test’s own, no append-only file)', () => {
  const redis = new PrivateRedis(['--appendonly', 'no']);
  beforeAll(() => redis.start());
  afterAll(() => redis.kill());

  const stateOf = async (t: TestApp, id: number, users: LoadTestUser[]) =>
    Promise.all(users.map(async (u) => (await t.http('GET', `/coupons/${id}/issue`, { token: u.token })).body));

  it('is the reason start-up warns when Redis keeps no append-only file', async () => {
    const durable = new PrivateRedis(); // appendonly yes
    await durable.start();
    const warned = (url: string) => {
      const client = new Redis(url);
      const warnings: string[] = [];
      return warnIfNotDurable(client, { warn: (m: string) => warnings.push(m) } as unknown as Logger).then(() => (client.disconnect(), warnings));
    };
    try {
      expect(await warned(redis.url)).toEqual([expect.stringMatching(/appendonly is "no".*loses accepted \(202\) requests/)]);
      expect(await warned(durable.url)).toEqual([]);
    } finally {
      await durable.kill();
    }
  });

  it('requests still queued are lost, and said so: NOT_REQUESTED, never PENDING for ever; asked again, they are served', async () => {
    // no worker runs: what was accepted waits in the queue, which the restart wipes
    const t = await startTestApp('queue', { REDIS_URL: redis.url, RUN_WORKER: 'false', RATE_LIMIT_ISSUE_PER_SECOND: '0' });
    let worker: ChildProcess | undefined;
    try {
      const admin = await t.adminToken();
      const id = await t.createCoupon(admin, 50, 'queue amnesia');
      const users = await t.users(80);
      const history: Attempt[] = await fire(t, id, users.slice(0, 30));
      expect(countStatuses(history)).toEqual({ 202: 30 });

      await restartEmpty(redis);
      await untilReady(t.http);
      worker = startWorkerProcess({ REDIS_URL: redis.url });
      await untilWorkersConnected(1, redis.url);
      // the record of those 202s is gone with Redis: a poll says so instead of PENDING for ever
      expect((await stateOf(t, id, users.slice(0, 30))).every((s) => s.code === 'NOT_REQUESTED')).toBe(true);
      expect(await couponFacts(t.sql, id)).toMatchObject({ rows: 0, counter: 0 });

      // asked again, with newcomers: exactly the 50, once each, and every 202 ends ISSUED
      const again = await fire(t, id, users);
      expect(countStatuses(again)).toEqual({ 202: 50, 409: 30 });
      await untilIdle(t, admin, id);
      const served = again.filter((a) => a.status === 202).map((a) => a.userId);
      const facts = await couponFacts(t.sql, id);
      expect(facts).toMatchObject({ rows: 50, counter: 50, duplicateHolders: 0 });
      expect([...facts.holders].sort()).toEqual(served.sort());
    } finally {
      if (worker) await kill(worker);
      await t.close();
    }
  });

  it('requests a worker was writing when Redis lost everything: written once, ISSUED, and the rebuilt stock counts them', async () => {
    const t = await startTestApp('queue', { REDIS_URL: redis.url, RATE_LIMIT_ISSUE_PER_SECOND: '0', DB_LOCK_TIMEOUT_MS: '60000' });
    const blocker = await t.sql.connect();
    try {
      const admin = await t.adminToken();
      const id = await t.createCoupon(admin, 50, 'queue amnesia, mid-write');
      const users = await t.users(80);
      // the worker in this process takes the job and waits on the row lock to write it
      await blocker.query('BEGIN');
      await blocker.query('SELECT * FROM coupons WHERE id = $1 FOR UPDATE', [id]);
      const history: Attempt[] = await fire(t, id, users.slice(0, 30));
      expect(countStatuses(history)).toEqual({ 202: 30 });
      await sleep(500);

      await restartEmpty(redis);
      await blocker.query('ROLLBACK'); // the write goes through; settling it finds an empty Redis
      for (let i = 0; i < 100 && (await couponFacts(t.sql, id)).rows < 30; i++) await sleep(100);
      await untilReady(t.http);
      expect((await stateOf(t, id, users.slice(0, 30))).map((s) => s.status)).toEqual(Array(30).fill('ISSUED'));

      // everyone asks: the 30 hold theirs, 20 newcomers get the rest, nothing beyond the 50
      const after = await fire(t, id, users);
      history.push(...after);
      expect(countStatuses(after)).toEqual({ 202: 20, 409: 60 });
      const holders = new Set(users.slice(0, 30).map((u) => u.userId));
      expect(after.filter((a) => holders.has(a.userId)).every((a) => a.code === 'ALREADY_ISSUED')).toBe(true);
      await untilIdle(t, admin, id);
      const facts = await expectHistoryHolds(t.sql, id, history);
      expect(facts.rows).toBe(50);
      expect((await t.http('GET', `/coupons/${id}/stats`, { token: admin })).body).toMatchObject({ issuedRows: 50, redisReserved: 50, pending: 0 });
    } finally {
      await blocker.query('ROLLBACK').catch(() => undefined);
      blocker.release();
      await t.close();
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
      const history = [
        { userId: u2.userId, status: 503 },
        { userId: u2.userId, status: 201 },
        { userId: u3.userId, status: 201 },
      ];
      await expectHistoryHolds(t.sql, b, history);
      await expectHistoryHolds(t.sql, a, [{ userId: u1.userId, status: 201 }]);
    } finally {
      await blocker.query('ROLLBACK').catch(() => undefined);
      blocker.release();
      await t.close();
    }
  });
});

/** POST on a connection of its own: a refused connection is told apart from an answer that never came. */
function postOnNewConnection(baseUrl: string, path: string, token: string): Promise<{ status: number; code?: string; error?: string }> {
  return new Promise((resolve) => {
    const req = httpRequest(`${baseUrl}${path}`, { method: 'POST', agent: false, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, code: (JSON.parse(text || '{}') as { code?: string }).code }));
      res.on('error', (error: NodeJS.ErrnoException) => resolve({ status: 0, error: error.code ?? error.message }));
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ status: 0, error: error.code ?? error.message }));
    req.end();
  });
}

describe('graceful shutdown of a real API process (SIGTERM)', () => {
  let api: { child: ChildProcess; baseUrl: string } | undefined;
  let worker: ChildProcess | undefined;
  afterEach(async () => {
    if (api) await kill(api.child);
    if (worker) await kill(worker);
    api = worker = undefined;
  });

  const exitOf = (child: ChildProcess) =>
    new Promise<{ code: number | null; signal: string | null; at: number }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })),
    );

  // In both, the write of a reserved or decided request waits on the coupon row's lock.
  it.each(['pessimistic', 'redis'] as const)('%s: finishes the requests in flight before exiting, and drops nothing it said yes to', async (strategy) => {
    // the helper app is only used for setup and SQL; the process under test is separate
    const t = await startTestApp('pessimistic');
    const blocker = await t.sql.connect();
    try {
      const admin = await t.adminToken();
      const id = await t.createCoupon(admin, 30, `sigterm ${strategy}`);
      const users = await t.users(40);
      api = await startApiProcess({ ISSUANCE_STRATEGY: strategy, DB_LOCK_TIMEOUT_MS: '10000', RATE_LIMIT_ISSUE_PER_SECOND: '0' });
      const exited = exitOf(api.child);

      // hold the coupon's row so that every request is in flight when SIGTERM comes
      await blocker.query('BEGIN');
      await blocker.query('SELECT * FROM coupons WHERE id = $1 FOR UPDATE', [id]);
      const inFlight = Promise.all(
        users.map(async (u) => ({ userId: u.userId, ...(await postOnNewConnection(api!.baseUrl, `/coupons/${id}/issue`, u.token)) })),
      );
      await sleep(500);
      api.child.kill('SIGTERM');
      await sleep(500);
      // new connections are refused once it is closing
      const late = await fetch(`${api.baseUrl}/health/live`).then(
        (r) => r.status,
        () => 0,
      );
      expect([0, 503]).toContain(late);
      await blocker.query('ROLLBACK');

      const answered = await inFlight;
      const answeredAt = performance.now();
      expect(answered.filter((a) => a.error)).toEqual([]); // none dropped without an answer
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

  it('queue: SIGTERM while accepting, its worker holding jobs it cannot write: every 202 is issued by the next worker', async () => {
    // the helper consumes nothing (RUN_WORKER=false): the API process under test is the only worker
    const t = await startTestApp('queue', { RUN_WORKER: 'false' });
    const blocker = await t.sql.connect();
    try {
      const admin = await t.adminToken();
      const id = await t.createCoupon(admin, 100, 'sigterm queue');
      const users = await t.users(200);
      // its writes wait on the row lock as long as it is held (no lock timeout settling them first)
      const patient = { DB_LOCK_TIMEOUT_MS: '600000', DB_STATEMENT_TIMEOUT_MS: '600000' };
      api = await startApiProcess({ ISSUANCE_STRATEGY: 'queue', RUN_WORKER: 'true', RATE_LIMIT_ISSUE_PER_SECOND: '0', ...patient });
      const exited = exitOf(api.child);
      await untilWorkersConnected(1);

      await blocker.query('BEGIN');
      await blocker.query('SELECT * FROM coupons WHERE id = $1 FOR UPDATE', [id]);
      const post = (u: LoadTestUser) => postOnNewConnection(api!.baseUrl, `/coupons/${id}/issue`, u.token).then((r) => ({ userId: u.userId, ...r }));
      // accepted, and in the worker's hands: its job waits on the lock
      const held = await Promise.all(users.slice(0, 50).map(post));
      expect(countStatuses(held)).toEqual({ 202: 50 });
      // the rest arrive as a stream, one new connection every 4 ms, across the SIGTERM
      const stream = Promise.all(users.slice(50).map(async (u, i) => (await sleep(i * 4), post(u))));
      await sleep(300);
      const signalledAt = performance.now();
      api.child.kill('SIGTERM');
      const streamed = await stream;
      // the worker gives up the jobs it cannot finish within its 10 s; the process then exits
      const exit = await exited;
      expect(exit.code === 0 || exit.signal === 'SIGTERM').toBe(true);
      expect(exit.at - signalledAt).toBeLessThan(20_000);
      // no answer means the port was closed (refused), or the connection was still waiting in the
      // backlog or had sent nothing yet (reset); Fastify answers 503 to a request that starts
      // after close. None of those was processed: the count of rows below shows it.
      expect(streamed.filter((a) => a.error && !['ECONNREFUSED', 'ECONNRESET'].includes(a.error))).toEqual([]);
      expect(streamed.filter((a) => a.status === 202).length).toBeGreaterThan(0);
      await blocker.query('ROLLBACK');

      worker = startWorkerProcess();
      await untilIdle(t, admin, id, 90_000);
      const history = [...held, ...streamed];
      const accepted = history.filter((a) => a.status === 202);
      const facts = await expectHistoryHolds(t.sql, id, history);
      expect(facts.rows).toBe(accepted.length); // nothing accepted dropped; nothing cut off mid-request was written
      for (const a of accepted) {
        const token = users.find((u) => u.userId === a.userId)!.token;
        expect((await t.http('GET', `/coupons/${id}/issue`, { token })).body.status).toBe('ISSUED');
      }
    } finally {
      await blocker.query('ROLLBACK').catch(() => undefined);
      blocker.release();
      await t.close();
    }
  });
});
