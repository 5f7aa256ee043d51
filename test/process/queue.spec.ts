import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { ISSUE_QUEUE } from '../../src/issuance/queue/issue-queue';
import { QueueShards } from '../../src/issuance/queue/queue-shards';
import { TEST_REDIS_URL } from '../setup/test-env';
import { until } from '../support/burst';
import { couponKeys } from '../../src/issuance/reservation/coupon-keys';
import { IssueWriter } from '../../src/issuance/issue-writer';
import { IssuanceStrategy } from '../../src/issuance/strategies/issuance.strategy';
import { PendingSweeper } from '../../src/issuance/queue/pending-sweeper';
import { IssueProcessor } from '../../src/issuance/queue/issue.processor';
import { PendingRequests } from '../../src/issuance/reservation/pending-requests';
import { ReservationStore } from '../../src/issuance/reservation/reservation.store';
import { countStatuses, couponFacts } from '../support/invariants';
import { PrivateRedis } from '../support/private-redis';
import { couponsOnEveryShard, singleShardQueue, untilIdle, untilWorkersConnected } from '../support/queue-state';
import { holdCouponRow, untilLockWaiters } from '../support/row-lock';
import { startTestApp, TestApp } from '../support/test-app';
import { kill, startWorkerProcess } from '../support/service-process';

describe('queue strategy: accepted requests always settle', () => {
  let t: TestApp;
  let admin: string;

  beforeAll(async () => {
    t = await startTestApp('queue');
    admin = await t.adminToken();
  });
  afterAll(() => t.close());

  const create = (totalQuantity: number) => t.createCoupon(admin, totalQuantity, 'queue');
  const strategy = () => t.app.get(IssuanceStrategy);
  /** One sweep now, rather than waiting for the worker's timer. */
  const sweep = () => t.app.get(PendingSweeper, { strict: false }).sweep();
  const pending = () => t.app.get(PendingRequests, { strict: false });
  /**
   * Exactly what the reservation script leaves when the process dies before the request gets a
   * job: the unit reserved and the request pending (accepted a minute ago), with no job.
   */
  const acceptedWithoutJob = async (couponId: number, userId: number) => {
    const keys = couponKeys(couponId);
    await t.redis.sadd(keys.holders, String(userId));
    await t.redis.hincrby(keys.meta, 'taken', 1);
    await t.redis.hset(keys.pending, String(userId), String(Date.now() - 60_000));
  };

  it('answers 202 PENDING, then ISSUED; stats show pending while in flight and the queue depth', async () => {
    const id = await create(5);
    const [u] = await t.users(1);
    const res = await t.http('POST', `/coupons/${id}/issue`, { token: u.token });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ status: 'PENDING', couponId: id });
    await untilIdle(t, admin, id);
    const state = await t.http('GET', `/coupons/${id}/issue`, { token: u.token });
    expect(state.body).toMatchObject({ status: 'ISSUED', issue: { couponId: id, userId: u.userId } });
    expect((await t.http('GET', `/coupons/${id}/stats`, { token: admin })).body).toMatchObject({ pending: 0, queueDepth: expect.any(Number) });
    const metrics = (await t.http('GET', '/metrics')).body;
    expect(metrics).toMatch(/coupon_issue_queue_depth \d+/);
    expect(metrics).toMatch(/coupon_issue_queue_settled_total\{result="issued"\} [1-9]/);
  });

  it('an API that died between reserving and enqueueing: the sweeper finds the pending request and it is issued', async () => {
    const id = await create(2);
    const [u] = await t.users(1);
    await acceptedWithoutJob(id, u.userId);
    expect((await t.http('GET', `/coupons/${id}/issue`, { token: u.token })).body).toEqual({ status: 'PENDING' });

    expect(await sweep()).toBeGreaterThanOrEqual(1);
    await untilIdle(t, admin, id);
    expect((await t.http('GET', `/coupons/${id}/issue`, { token: u.token })).body.status).toBe('ISSUED');
    expect(await couponFacts(t.sql, id)).toMatchObject({ rows: 1, counter: 1, duplicateHolders: 0 });
  });

  it('the sweeper acting on a stale read: a request settled meanwhile is neither revived nor queued again (compare-and-set on its mark)', async () => {
    const id = await create(2);
    const [u] = await t.users(1);
    await acceptedWithoutJob(id, u.userId);
    const stale = await pending().all(id); // what the sweeper read
    // settled between the sweeper's read and its act: here, rejected and its unit given back
    expect(await t.app.get(ReservationStore, { strict: false }).release(id, u.userId, 'SOLD_OUT')).toBe(true);
    const real = pending().all.bind(pending());
    // the sweeper's read of this coupon is the stale one (it reads every coupon in use)
    const spy = jest.spyOn(pending(), 'all').mockImplementation((couponId) => (couponId === id ? Promise.resolve(stale) : real(couponId)));
    try {
      expect(await sweep()).toBe(0);
    } finally {
      spy.mockRestore();
    }
    expect(await t.redis.hexists(couponKeys(id).pending, String(u.userId))).toBe(0);
    expect((await t.http('GET', `/coupons/${id}/issue`, { token: u.token })).body).toMatchObject({ status: 'REJECTED', reason: 'SOLD_OUT' });
    expect(await couponFacts(t.sql, id)).toMatchObject({ rows: 0, counter: 0 });
  });

  it("a failed job the sweeper settles on a stale read leaves the same user's newer request alone", async () => {
    const id = await create(2);
    const [u] = await t.users(1);
    await acceptedWithoutJob(id, u.userId);
    const processor = t.app.get(IssueProcessor, { strict: false });
    const [old] = (await pending().all(id)).values();
    // the old request was settled, and the user asked anew: pending again, with another mark
    await t.redis.hset(couponKeys(id).pending, String(u.userId), `${Date.now()}:another-job`);
    await processor.settleFailed({ couponId: id, userIds: [u.userId] }, () => old.mark);
    expect(await t.redis.hexists(couponKeys(id).pending, String(u.userId))).toBe(1);
    expect(await t.redis.sismember(couponKeys(id).holders, String(u.userId))).toBe(1);
  });

  it('a job redelivered after its commit (worker died before settling) settles ISSUED without a second row', async () => {
    const id = await create(2);
    const [u] = await t.users(1);
    await acceptedWithoutJob(id, u.userId);
    const [first] = await t.app.get(IssueWriter).write(id, [u.userId]); // the commit that happened
    expect(first.kind).toBe('issued');

    await sweep();
    await untilIdle(t, admin, id);
    const state = (await t.http('GET', `/coupons/${id}/issue`, { token: u.token })).body;
    expect(state).toEqual({ status: 'ISSUED', issue: first.kind === 'issued' ? first.issue : undefined });
    expect(await couponFacts(t.sql, id)).toMatchObject({ rows: 1, counter: 1, duplicateHolders: 0 });
    expect((await t.http('GET', `/coupons/${id}/stats`, { token: admin })).body).toMatchObject({ redisReserved: 1, pending: 0 });
  });

  it('a request accepted before its campaign was paused is written all the same: it was decided when accepted', async () => {
    const id = await create(2);
    const [u, v] = await t.users(2);
    await acceptedWithoutJob(id, u.userId);
    // paused behind Redis' back (the state was not told) after the request was accepted
    await t.sql.query(`UPDATE coupons SET status = 'PAUSED' WHERE id = $1`, [id]);
    await sweep();
    await untilIdle(t, admin, id);
    expect((await t.http('GET', `/coupons/${id}/issue`, { token: u.token })).body.status).toBe('ISSUED');
    expect((await t.http('GET', `/coupons/${id}/stats`, { token: admin })).body).toMatchObject({ issuedRows: 1, redisReserved: 1 });

    await t.http('PATCH', `/coupons/${id}`, { token: admin, body: { status: 'ACTIVE' } });
    expect((await t.http('POST', `/coupons/${id}/issue`, { token: v.token })).status).toBe(202);
    await untilIdle(t, admin, id);
    expect((await t.http('GET', `/coupons/${id}/issue`, { token: v.token })).body.status).toBe('ISSUED');
  });

  it('a user deleted after their request was accepted: theirs ends REJECTED, and the requests written beside it are issued', async () => {
    const id = await create(10);
    const users = await t.users(6);
    const [gone, ...others] = users;
    for (const u of users) await acceptedWithoutJob(id, u.userId);
    await t.sql.query('DELETE FROM users WHERE id = $1', [gone.userId]);

    // the writer, given them in one batch (the foreign key once failed the whole batch, each retry)
    const written = await t.app.get(IssueWriter).write(id, [others[0].userId, gone.userId]);
    expect(written.map((w) => (w.kind === 'issued' ? 'issued' : w.refusal))).toEqual(['issued', 'USER_GONE']);

    await sweep();
    await untilIdle(t, admin, id);
    for (const u of others) expect((await t.http('GET', `/coupons/${id}/issue`, { token: u.token })).body.status).toBe('ISSUED');
    expect(await strategy().state(id, gone.userId)).toEqual({ status: 'REJECTED', reason: 'UNAUTHORIZED' });
    expect(await couponFacts(t.sql, id)).toMatchObject({ rows: 5, counter: 5, duplicateHolders: 0 });
    expect((await t.http('GET', `/coupons/${id}/stats`, { token: admin })).body).toMatchObject({ redisReserved: 5, pending: 0 });
  });

  describe('giving back a request still pending withdraws it: the user ends holding nothing, the unit is back once idle', () => {
    const giveBack = (id: number, token: string) => t.http('DELETE', `/coupons/${id}/issue`, { token });
    /** Nothing held, nothing pending, the unit in stock in Redis and PostgreSQL, the next user served. */
    const expectWithdrawn = async (id: number, user: { token: string }) => {
      await untilIdle(t, admin, id);
      expect((await t.http('GET', `/coupons/${id}/issue`, { token: user.token })).body.code).toBe('NOT_REQUESTED');
      expect(await couponFacts(t.sql, id)).toMatchObject({ rows: 0, counter: 0 });
      expect((await t.http('GET', `/coupons/${id}/stats`, { token: admin })).body).toMatchObject({ redisReserved: 0, pending: 0, remainingQuantity: 1 });
      const [next] = await t.users(1);
      expect((await t.http('POST', `/coupons/${id}/issue`, { token: next.token })).status).toBe(202);
      await untilIdle(t, admin, id);
      expect(await couponFacts(t.sql, id)).toMatchObject({ rows: 1, counter: 1, holders: new Set([next.userId]) });
    };

    it('before it has a job (its API died after reserving): the sweeper enqueues it, the worker takes it back', async () => {
      const id = await create(1);
      const [u] = await t.users(1);
      await acceptedWithoutJob(id, u.userId);
      expect((await giveBack(id, u.token)).status).toBe(204);
      expect((await giveBack(id, u.token)).status).toBe(204); // withdrawing twice is the same withdrawal
      await sweep();
      await expectWithdrawn(id, u);
    });

    it('while a worker is writing it (its statement waits on the coupon row)', async () => {
      const id = await create(1);
      const [u] = await t.users(1);
      const lock = await holdCouponRow(t.sql, id);
      try {
        expect((await t.http('POST', `/coupons/${id}/issue`, { token: u.token })).status).toBe(202);
        await untilLockWaiters(t.sql, 1); // the worker's write has reached PostgreSQL
        expect((await giveBack(id, u.token)).status).toBe(204);
      } finally {
        await lock.release();
      }
      await expectWithdrawn(id, u);
    });

    it('after a worker died between its commit and settling: the redelivered write finds the row and takes it back', async () => {
      const id = await create(1);
      const [u] = await t.users(1);
      await acceptedWithoutJob(id, u.userId);
      const [written] = await t.app.get(IssueWriter).write(id, [u.userId]); // the commit that happened
      expect(written.kind).toBe('issued');
      expect((await giveBack(id, u.token)).status).toBe(204);
      await sweep();
      await expectWithdrawn(id, u);
      const { rows } = await t.sql.query('SELECT user_id, reason FROM coupon_issue_cancellations WHERE coupon_id = $1', [id]);
      expect(rows).toEqual([{ user_id: u.userId, reason: 'GIVEN_BACK' }]);
    });
  });
});

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

  it("a coupon's jobs wait in its own shard only; the worker consumes all three; every campaign sells exactly", async () => {
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
