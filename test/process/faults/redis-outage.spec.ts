import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import type { LoadTestUser } from '../../../load/load-test-users';
import { warnIfNotDurable } from '../../../src/redis/redis.module';
import { fire, until } from '../../support/burst';
import { couponUnderWay, onOwnRedis, reconcileAndRefill, restartEmpty } from '../../support/coupon-under-way';
import { Attempt, expectHistoryHolds } from '../../support/history';
import { untilReady } from '../../support/http';
import { countStatuses, couponFacts } from '../../support/invariants';
import { PrivateRedis } from '../../../servers/private-redis';
import { untilIdle, untilWorkersConnected } from '../../support/queue-state';
import { holdCouponRow, untilLockWaiters } from '../../support/row-lock';
import { kill, startWorkerProcess } from '../../support/service-process';
import { startTestApp, TestApp } from '../../support/test-app';

/**
 * Faults on real processes: a Redis of the test's own paused, restarted empty and filled up under load. After each, the client-side history is checked against
 * PostgreSQL (support/history.ts).
 */
jest.setTimeout(180_000);

describe('Redis faults (redis strategy, a Redis of the test’s own)', () => {
  it('paused (SIGSTOP) for 10 s: fast 503s, not hung requests; resumed: serves again, and lost answers are made good', () =>
    onOwnRedis([], async (t, redis) => {
      const { admin, id, users, history } = await couponUnderWay(t, 100, 'redis paused', 160, 40);

      redis.pause();
      const paused = await fire(t.http, id, users.slice(40, 100));
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
      const retried = await fire(t.http, id, users.slice(40, 100));
      history.push(...retried);
      expect(countStatuses(retried)).toEqual({ 201: 60 });
      history.push(...(await fire(t.http, id, users.slice(100))));
      await expectHistoryHolds(t.sql, id, history);
      await reconcileAndRefill(t, admin, id, history, users);
    }));

  it('restarted empty (no append-only file): the state is rebuilt from PostgreSQL, nobody holds two, nothing oversold', () =>
    // later arguments win: nothing survives a restart
    onOwnRedis(['--appendonly', 'no'], async (t, redis) => {
      const { admin, id, users, history } = await couponUnderWay(t, 60, 'redis amnesia', 120, 40);

      await restartEmpty(redis);
      await untilReady(t.http);
      // the first 40 ask again (they hold one), with 80 newcomers for the 20 left
      const after = await fire(t.http, id, users);
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
      const { admin: token, id, users, history } = await couponUnderWay(t, 50, 'redis full', 80, 20);
      const admin = new Redis(redis.url); // Redis's own admin, to fill it up
      try {
        // Redis full: its limit set below what it already holds, so every write is refused
        const used = Number((await admin.info('memory')).match(/^used_memory:(\d+)/m)![1]);
        await admin.config('SET', 'maxmemory', String(Math.floor(used / 2)));
        await expect(admin.set('probe', 'x')).rejects.toThrow(/^OOM/);
        const full = await fire(t.http, id, users.slice(20, 40));
        history.push(...full);
        expect(countStatuses(full)).toEqual({ 503: 20 });
        expect(full.every((a) => a.code === 'UNAVAILABLE')).toBe(true);
        // nothing half-reserved: Redis still counts the 20 that were written, no more
        expect((await t.http('GET', `/coupons/${id}/stats`, { token })).body).toMatchObject({ issuedRows: 20, redisReserved: 20, pending: 0 });

        await admin.config('SET', 'maxmemory', '0'); // room again
        history.push(...(await fire(t.http, id, users.slice(20))));
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
      const history: Attempt[] = await fire(t.http, id, users.slice(0, 30));
      expect(countStatuses(history)).toEqual({ 202: 30 });

      await restartEmpty(redis);
      await untilReady(t.http);
      worker = startWorkerProcess({ REDIS_URL: redis.url });
      await untilWorkersConnected(1, redis.url);
      // the record of those 202s is gone with Redis: a poll says so instead of PENDING for ever
      expect((await stateOf(t, id, users.slice(0, 30))).every((s) => s.code === 'NOT_REQUESTED')).toBe(true);
      expect(await couponFacts(t.sql, id)).toMatchObject({ rows: 0, counter: 0 });

      // asked again, with newcomers: exactly the 50, once each, and every 202 ends ISSUED
      const again = await fire(t.http, id, users);
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
    let lock: { release: () => Promise<void> } | undefined;
    try {
      const admin = await t.adminToken();
      const id = await t.createCoupon(admin, 50, 'queue amnesia, mid-write');
      const users = await t.users(80);
      // the worker in this process takes the job and waits on the row lock to write it
      lock = await holdCouponRow(t.sql, id);
      const history: Attempt[] = await fire(t.http, id, users.slice(0, 30));
      expect(countStatuses(history)).toEqual({ 202: 30 });
      await untilLockWaiters(t.sql);

      await restartEmpty(redis);
      await lock.release(); // the write goes through; settling it finds an empty Redis
      await until(async () => ((await couponFacts(t.sql, id)).rows === 30 ? true : undefined), { what: 'the 30 rows' });
      await untilReady(t.http);
      expect((await stateOf(t, id, users.slice(0, 30))).map((s) => s.status)).toEqual(Array(30).fill('ISSUED'));

      // everyone asks: the 30 hold theirs, 20 newcomers get the rest, nothing beyond the 50
      const after = await fire(t.http, id, users);
      history.push(...after);
      expect(countStatuses(after)).toEqual({ 202: 20, 409: 60 });
      const holders = new Set(users.slice(0, 30).map((u) => u.userId));
      expect(after.filter((a) => holders.has(a.userId)).every((a) => a.code === 'ALREADY_ISSUED')).toBe(true);
      await untilIdle(t, admin, id);
      const facts = await expectHistoryHolds(t.sql, id, history);
      expect(facts.rows).toBe(50);
      expect((await t.http('GET', `/coupons/${id}/stats`, { token: admin })).body).toMatchObject({ issuedRows: 50, redisReserved: 50, pending: 0 });
    } finally {
      await lock?.release();
      await t.close();
    }
  });
});
