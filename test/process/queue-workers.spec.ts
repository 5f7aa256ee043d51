import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { ISSUE_QUEUE } from '../../src/issuance/queue/issue-queue';
import { QueueShards } from '../../src/issuance/queue/queue-shards';
import { TEST_REDIS_URL } from '../setup/test-env';
import { until } from '../support/burst';
import { countStatuses, couponFacts } from '../support/invariants';
import { PrivateRedis } from '../../servers/private-redis';
import { couponsOnEveryShard, singleShardQueue, untilIdle, untilWorkersConnected } from '../support/queue-state';
import { holdCouponRow, untilLockWaiters } from '../support/row-lock';
import { startTestApp, TestApp } from '../support/test-app';
import { kill, startWorkerProcess } from '../support/service-process';

describe('queue strategy on QUEUE_SHARDS=3 (one Redis)', () => {
  let t: TestApp;
  let admin: string;
  const shards = new QueueShards(3);
  const queues = shards.prefixes.map((prefix) => new Queue(ISSUE_QUEUE, { connection: new Redis(TEST_REDIS_URL), prefix }));

  beforeAll(async () => {
    t = await startTestApp('queue', { QUEUE_SHARDS: '3' });
    admin = await t.adminToken();
  });
  afterAll(async () => {
    for (const queue of queues) {
      await queue.close();
      (await queue.client).disconnect();
    }
    await t?.close();
  });

  /** Coupons until each shard has one: [shard 0's, shard 1's, shard 2's]. */
  async function onePerShard(total: number): Promise<number[]> {
    const ids = await couponsOnEveryShard(shards, 1, (i) => t.createCoupon(admin, total, `shard ${i}`));
    return shards.prefixes.map((_, k) => ids.find((id) => shards.of(id) === k)!);
  }

  it("a coupon's jobs wait in its own shard only; the worker consumes all three; every coupon sells exactly", async () => {
    const ids = await onePerShard(15);
    for (const queue of queues) expect(await queue.getWorkersCount()).toBe(1);
    // each coupon's row held: its job waits, active, in the shard it belongs to
    const locks = await Promise.all(ids.map((id) => holdCouponRow(t.sql, id)));
    try {
      const firsts = await t.users(3);
      for (const [k, id] of ids.entries()) expect((await t.http('POST', `/coupons/${id}/issue`, { token: firsts[k].token })).status).toBe(202);
      await untilLockWaiters(t.sql, 3);
      for (const [k, queue] of queues.entries()) {
        const jobs = await queue.getJobs(['active', 'waiting']);
        expect(jobs.map((j) => j.data.couponId).sort()).toEqual([ids[k]]);
      }
    } finally {
      await Promise.all(locks.map((l) => l.release()));
    }
    const crowds = await Promise.all(ids.map(() => t.users(40)));
    const results = await Promise.all(ids.map((id, k) => Promise.all(crowds[k].map((u) => t.http('POST', `/coupons/${id}/issue`, { token: u.token })))));
    for (const [k, id] of ids.entries()) {
      expect(countStatuses(results[k])).toEqual({ 202: 14, 409: 26 });
      await untilIdle(t, admin, id);
      expect(await couponFacts(t.sql, id)).toMatchObject({ rows: 15, counter: 15, duplicateHolders: 0 });
    }
    expect((await t.http('GET', '/health/ready')).body).toMatchObject({ info: { queue: { status: 'up', depth: 0, workers: 1 } } });
  });
});

describe('queue strategy with real worker processes', () => {
  it('two APIs and two workers; one worker SIGKILLed mid-burst and replaced: every 202 ends ISSUED, once', async () => {
    const [a, b] = [await startTestApp('queue', { RUN_WORKER: 'false' }), await startTestApp('queue', { RUN_WORKER: 'false' })];
    const workers = [startWorkerProcess(), startWorkerProcess()];
    try {
      const admin = await a.adminToken();
      const id = await a.createCoupon(admin, 250, 'kill a worker');
      const users = await a.users(400);
      await untilWorkersConnected(2);
      // readiness names the queue, with the workers of other processes
      const ready = await a.http('GET', '/health/ready');
      expect(ready.body).toMatchObject({
        status: 'ok',
        strategy: 'queue',
        info: { redis: { status: 'up' }, queue: { status: 'up', depth: expect.any(Number) } },
      });
      expect(ready.body.info.queue.workers).toBeGreaterThanOrEqual(2);
      const sent = Promise.all(users.map((u, i) => (i % 2 ? a : b).http('POST', `/coupons/${id}/issue`, { token: u.token }).then((r) => ({ ...r, u }))));
      // kill one worker while rows are being written: whatever it held, committed or not, is redelivered
      await until(async () => ((await couponFacts(a.sql, id)).rows >= 20 ? true : undefined), { everyMs: 5, what: 'the first 20 rows' });
      await kill(workers[0]);
      workers[0] = startWorkerProcess();
      const results = await sent;
      expect(countStatuses(results)).toEqual({ 202: 250, 409: 150 });

      await untilIdle(a, admin, id, 90_000);
      const facts = await couponFacts(a.sql, id);
      expect(facts).toMatchObject({ rows: 250, counter: 250, duplicateHolders: 0 });
      const accepted = results
        .filter((r) => r.status === 202)
        .map((r) => r.u.userId)
        .sort();
      expect([...facts.holders].sort()).toEqual(accepted);
    } finally {
      await Promise.all(workers.map((w) => kill(w, 'SIGTERM')));
      await a.close();
      await b.close();
    }
  });
});

describe('a job stalled twice', () => {
  it('its workers SIGKILLed twice while it waits on a row lock: redelivered each time, written once in the end', async () => {
    const t = await startTestApp('queue', { RUN_WORKER: 'false', RATE_LIMIT_ISSUE_PER_SECOND: '0' });
    const queue = singleShardQueue();
    let lock: { release: () => Promise<void> } | undefined;
    // the workers wait on the lock as long as it takes (no lock timeout failing the job instead)
    const worker = () => startWorkerProcess({ DB_LOCK_TIMEOUT_MS: '600000', DB_STATEMENT_TIMEOUT_MS: '600000' });
    let workers = [worker()];
    try {
      const admin = await t.adminToken();
      const id = await t.createCoupon(admin, 50, 'stalled twice');
      const users = await t.users(30);
      await untilWorkersConnected(1);
      lock = await holdCouponRow(t.sql, id);
      const results = await Promise.all(users.map((u) => t.http('POST', `/coupons/${id}/issue`, { token: u.token })));
      expect(countStatuses(results)).toEqual({ 202: 30 });

      /** Waits until a job of this coupon is active again after `stalls` stalls. */
      const activeAfter = (stalls: number) =>
        until(
          async () => {
            const active = (await queue.getJobs(['active'])).filter((j) => j?.data.couponId === id);
            return active.some((j) => j.stalledCounter >= stalls) ? true : undefined;
          },
          { timeoutMs: 60_000, everyMs: 100, what: `a job of coupon ${id} active after ${stalls} stalls` },
        );
      await activeAfter(0);
      for (const stalls of [1, 2]) {
        await Promise.all(workers.map((w) => kill(w))); // SIGKILL mid-job: its lock lapses, the job stalls
        workers = [worker()];
        await activeAfter(stalls); // picked up again by the new worker
      }
      await lock.release();
      await untilIdle(t, admin, id, 60_000);
      expect(await couponFacts(t.sql, id)).toMatchObject({ rows: 30, counter: 30, duplicateHolders: 0 });
      for (const u of users) expect((await t.http('GET', `/coupons/${id}/issue`, { token: u.token })).body.status).toBe('ISSUED');
    } finally {
      await lock?.release();
      await Promise.all(workers.map((w) => kill(w, 'SIGTERM')));
      await queue.close();
      (await queue.client).disconnect(); // a connection handed to BullMQ is not closed by it
      await t.close();
    }
  });
});

describe('queue worker shutdown', () => {
  it('SIGTERM ends a worker process even when its Redis is gone (bounded graceful shutdown)', async () => {
    const own = new PrivateRedis();
    await own.start();
    const worker = startWorkerProcess({ REDIS_URL: own.url });
    try {
      await untilWorkersConnected(1, own.url);
      await own.kill();
      const started = Date.now();
      const exited = new Promise<number>((resolve) => worker.once('exit', () => resolve(Date.now() - started)));
      worker.kill('SIGTERM');
      const ms = await Promise.race([exited, sleep(30_000).then(() => -1)]);
      expect(ms).toBeGreaterThanOrEqual(0); // -1: still running 30 s after SIGTERM
    } finally {
      await kill(worker);
      await own.kill();
    }
  });
});
