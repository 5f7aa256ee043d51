import type { Job, Queue } from 'bullmq';
import { EntityManager } from 'typeorm';
import { couponKeys } from '../../src/issuance/reservation/coupon-keys';
import { IssueProcessor } from '../../src/issuance/queue/issue.processor';
import { ReservationStore } from '../../src/issuance/reservation/reservation.store';
import { IssueWriter } from '../../src/issuance/issue-writer';
import { IssueCanceller } from '../../src/issuance/issue-canceller';
import type { IssueJob } from '../../src/issuance/queue/issue-queue';
import { until } from '../support/burst';
import { couponFacts } from '../support/invariants';
import { singleShardQueue, untilIdle } from '../support/queue-state';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * A row written for a request may leave only on evidence that this very request was given back
 * (or revoked): the cancellation names the request it ended. Neither PostgreSQL's clock, which
 * dates the record, nor Redis' memory of the holder decides it.
 */
describe('queue strategy: a give-back is matched to the request it ended, not to a time', () => {
  let t: TestApp;
  let admin: string;

  beforeAll(async () => {
    t = await startTestApp('queue', { RATE_LIMIT_ISSUE_PER_SECOND: '0' });
    admin = await t.adminToken();
  });
  afterAll(() => t.close());

  const stateOf = async (id: number, token: string) => (await t.http('GET', `/coupons/${id}/issue`, { token })).body;
  const loseRedisState = (id: number) => {
    const k = couponKeys(id);
    return t.redis.del(k.meta, k.holders, k.pending, k.rejected, k.withdrawn, k.returning);
  };

  /** `work` while the queue is paused (as when the workers are busy): jobs added meanwhile wait for it. */
  async function whileQueuePaused<T>(work: (queue: Queue) => Promise<T>): Promise<T> {
    const queue = singleShardQueue();
    await queue.pause();
    try {
      return await work(queue);
    } finally {
      await queue.resume();
      await queue.close();
      (await queue.client).disconnect();
    }
  }

  /**
   * The user asks while the queue is paused; returns the job that carries the request, as stored.
   * `takeJob`: the job leaves the queue, for the test to hand to the processor itself.
   */
  function askQueued(
    id: number,
    token: string,
    userId: number,
    meanwhile: () => Promise<void> = async () => undefined,
    takeJob = false,
  ): Promise<Job<IssueJob>> {
    return whileQueuePaused(async (queue) => {
      expect((await t.http('POST', `/coupons/${id}/issue`, { token })).status).toBe(202);
      const jobId = await until(async () => (await t.redis.hget(couponKeys(id).pending, String(userId)))?.split(':')[1]);
      const job = await until(async () => (await queue.getJob(jobId)) ?? undefined);
      await meanwhile();
      if (takeJob) await job.remove();
      return job;
    });
  }

  /** The user asks again, and gets a 202 whose own job waits (the queue paused). */
  const askAgainWhileQueued = (id: number, token: string) =>
    whileQueuePaused(async () => expect((await t.http('POST', `/coupons/${id}/issue`, { token })).status).toBe(202));

  /** The processor handed `job` (as BullMQ would), with `spy` in place for this one run. */
  async function processWith(job: Job<IssueJob>, spy: { mockRestore(): void }): Promise<void> {
    try {
      await t.app.get(IssueProcessor, { strict: false }).process(job.data, job.timestamp, job.id);
    } finally {
      spy.mockRestore();
    }
  }

  it("a job redelivered after its request was given back, with the coupon's Redis state lost meanwhile: the row is not made again", async () => {
    const id = await t.createCoupon(admin, 2, 'evidence');
    const [u] = await t.users(1);
    const job = await askQueued(id, u.token, u.userId);
    await untilIdle(t, admin, id);
    expect((await stateOf(id, u.token)).status).toBe('ISSUED');
    expect((await t.http('DELETE', `/coupons/${id}/issue`, { token: u.token })).status).toBe(204);
    await loseRedisState(id); // a failover to a replica that had not yet seen the coupon's keys; the job lives elsewhere
    // BullMQ hands the job over once more (its worker died before acknowledging it)
    await t.app.get(IssueProcessor, { strict: false }).process(job.data, job.timestamp, job.id);
    expect(await couponFacts(t.sql, id)).toMatchObject({ rows: 0, counter: 0 });
    expect((await stateOf(id, u.token)).code).toBe('NOT_REQUESTED');
  });

  it("withdrawn and asked again between a worker's commit and its settle: the worker settles only its own request, and the new one ends ISSUED", async () => {
    // seen by npm run chaos under load: the stale settle took the new request's pending record as
    // its own, on a row the withdrawal had already taken back; the user held nothing, Redis a unit
    const id = await t.createCoupon(admin, 2, 'evidence');
    const [u] = await t.users(1);
    const job = await askQueued(id, u.token, u.userId, undefined, true);
    const store = t.app.get(ReservationStore, { strict: false });
    const settle = store.settle.bind(store);
    const spy = jest.spyOn(store, 'settle').mockImplementationOnce(async (couponId, written) => {
      expect((await t.http('DELETE', `/coupons/${id}/issue`, { token: u.token })).status).toBe(204); // takes back the row just written
      // the new request waits for its own job while the first one settles
      return whileQueuePaused(async () => {
        expect((await t.http('POST', `/coupons/${id}/issue`, { token: u.token })).status).toBe(202);
        return settle(couponId, written);
      });
    });
    await processWith(job, spy);
    await untilIdle(t, admin, id);
    expect((await stateOf(id, u.token)).status).toBe('ISSUED');
    expect(await couponFacts(t.sql, id)).toMatchObject({ rows: 1, counter: 1 });
    expect((await t.http('GET', `/coupons/${id}/stats`, { token: admin })).body).toMatchObject({ redisReserved: 1, pending: 0 });
  });

  it('withdrawn and asked again while its write was being refused: the refusal releases only its own request, and the new one ends ISSUED', async () => {
    const id = await t.createCoupon(admin, 2, 'evidence');
    const [u] = await t.users(1);
    const job = await askQueued(id, u.token, u.userId, undefined, true);
    const writer = t.app.get(IssueWriter);
    const spy = jest.spyOn(writer, 'writeEach').mockImplementationOnce(async () => {
      expect((await t.http('DELETE', `/coupons/${id}/issue`, { token: u.token })).status).toBe(204);
      await askAgainWhileQueued(id, u.token);
      return [{ ok: true, value: { kind: 'refused', refusal: 'SOLD_OUT' } }]; // PostgreSQL's answer to the first request
    });
    await processWith(job, spy);
    await untilIdle(t, admin, id);
    expect((await stateOf(id, u.token)).status).toBe('ISSUED');
    expect(await couponFacts(t.sql, id)).toMatchObject({ rows: 1, counter: 1 });
  });

  it('a job read after Redis lost the coupon, refused, while its user asks again: the new request keeps its unit and ends ISSUED', async () => {
    const id = await t.createCoupon(admin, 2, 'evidence');
    const [u] = await t.users(1);
    const job = await askQueued(id, u.token, u.userId, undefined, true);
    await loseRedisState(id); // the request is lost with it (allowed); its job is elsewhere, and runs
    const spy = jest.spyOn(t.app.get(IssueWriter), 'writeEach').mockImplementationOnce(async () => {
      await askAgainWhileQueued(id, u.token); // rebuilds the state
      return [{ ok: true, value: { kind: 'refused', refusal: 'SOLD_OUT' } }];
    });
    await processWith(job, spy);
    await untilIdle(t, admin, id);
    expect((await stateOf(id, u.token)).status).toBe('ISSUED');
    expect(await couponFacts(t.sql, id)).toMatchObject({ rows: 1, counter: 1 });
  });

  it("withdrawn before its write, asked again (revived) and settled on that row, then the first job settles late: the row stays the new request's", async () => {
    // seen by npm run chaos on a Redis Cluster (seed 2204): the late settle read the withdrawal on
    // record before the revive deleted it, found nothing pending (the new request was settled), and
    // took back the row the new request was settled on
    const id = await t.createCoupon(admin, 2, 'evidence');
    const [u] = await t.users(1);
    const job = await askQueued(id, u.token, u.userId, undefined, true);
    expect((await t.http('DELETE', `/coupons/${id}/issue`, { token: u.token })).status).toBe(204); // nothing written yet
    const canceller = t.app.get(IssueCanceller, { strict: false });
    const withdrawnSince = canceller.withdrawnSince.bind(canceller);
    const spy = jest.spyOn(canceller, 'withdrawnSince').mockImplementationOnce(async (couponId, written) => {
      const read = await withdrawnSince(couponId, written); // the withdrawal, still on record
      expect((await t.http('POST', `/coupons/${id}/issue`, { token: u.token })).status).toBe(202); // revived
      await until(async () => ((await stateOf(id, u.token)).status === 'ISSUED' ? true : undefined), { what: 'the new request settled on the row' });
      return read;
    });
    await processWith(job, spy);
    await untilIdle(t, admin, id);
    expect((await stateOf(id, u.token)).status).toBe('ISSUED');
    expect(await couponFacts(t.sql, id)).toMatchObject({ rows: 1, counter: 1 });
    expect((await t.http('GET', `/coupons/${id}/stats`, { token: admin })).body).toMatchObject({ redisReserved: 1, pending: 0 });
  });

  it('withdrawn, taken back by its API, asked again, and the new row committed while the first job takes the withdrawn one back: the new row stays', async () => {
    // npm run chaos seed 3901 (queue, cluster): the late take-back looked, found no row, and its
    // DELETE (bound to the user, not to the row looked at) took the new request's row committed in
    // between; then gave its unit back. The 202 ended NOT_REQUESTED
    const id = await t.createCoupon(admin, 2, 'evidence');
    const [u] = await t.users(1);
    const first = await askQueued(id, u.token, u.userId, undefined, true);
    const [store, canceller, processor] = [ReservationStore, IssueCanceller, IssueProcessor].map((type) => t.app.get(type, { strict: false })) as [
      ReservationStore,
      IssueCanceller,
      IssueProcessor,
    ];
    let withdrawnAt = 0;
    const settle = store.settle.bind(store);
    const marked = jest.spyOn(store, 'settle').mockImplementationOnce(async (couponId, written) => {
      withdrawnAt = (await store.beginGiveBack(id, u.userId, { withdrawPending: true })).withdrawnAt!; // the withdrawal marked: this job takes its row back
      return settle(couponId, written);
    });
    const cancelWithdrawn = canceller.cancelWithdrawn.bind(canceller);
    const raced = jest.spyOn(canceller, 'cancelWithdrawn').mockImplementationOnce(async (couponId, userId) => {
      // the withdrawal's API records it, takes the row back and returns the unit (its 204); the user asks again
      expect(await canceller.withdraw(id, u.userId, withdrawnAt)).toMatchObject({ kind: 'cancelled' });
      expect(await store.releaseWithdrawn(id, u.userId, withdrawnAt)).toBe(true);
      const second = await askQueued(id, u.token, u.userId, undefined, true);
      const query = EntityManager.prototype.query;
      const between = jest.spyOn(EntityManager.prototype, 'query').mockImplementation(async function (this: EntityManager, sql: string, params?: unknown[]) {
        const result: unknown = await query.call(this, sql, params);
        if (sql.includes('AS stamp FROM coupon_issues')) {
          between.mockRestore(); // the take-back has looked: the new request's job commits its row now
          await processor.process(second.data, second.timestamp, second.id);
        }
        return result;
      });
      try {
        return await cancelWithdrawn(couponId, userId);
      } finally {
        between.mockRestore();
      }
    });
    try {
      await processor.process(first.data, first.timestamp, first.id);
    } finally {
      marked.mockRestore();
      raced.mockRestore();
    }
    await untilIdle(t, admin, id);
    expect((await stateOf(id, u.token)).status).toBe('ISSUED');
    expect(await couponFacts(t.sql, id)).toMatchObject({ rows: 1, counter: 1 });
    expect((await t.http('GET', `/coupons/${id}/stats`, { token: admin })).body).toMatchObject({ redisReserved: 1, pending: 0 });
    const cancelled = await t.sql.query('SELECT count(*)::int AS n FROM coupon_issue_cancellations WHERE coupon_id = $1', [id]);
    expect(cancelled.rows[0].n).toBe(1); // the withdrawn request's row, once
  });

  it('the first job takes its withdrawn row back, and the user asks again and is settled on a new row before its unit goes back: the new holder stays listed', async () => {
    // the take-back's release found neither the withdrawal's mark nor a request pending, and
    // released the new request's holder: Redis counted one unit fewer than PostgreSQL's rows
    const id = await t.createCoupon(admin, 2, 'evidence');
    const [u] = await t.users(1);
    const first = await askQueued(id, u.token, u.userId, undefined, true);
    expect((await t.http('DELETE', `/coupons/${id}/issue`, { token: u.token })).status).toBe(204); // marked and recorded, nothing written yet
    const [canceller, processor] = [IssueCanceller, IssueProcessor].map((type) => t.app.get(type, { strict: false })) as [IssueCanceller, IssueProcessor];
    const cancelWithdrawn = canceller.cancelWithdrawn.bind(canceller);
    const raced = jest.spyOn(canceller, 'cancelWithdrawn').mockImplementationOnce(async (couponId, userId) => {
      const result = await cancelWithdrawn(couponId, userId);
      expect(result).toMatchObject({ kind: 'cancelled' }); // the withdrawn row, taken back and committed
      const second = await askQueued(id, u.token, u.userId, undefined, true); // revived
      await processor.process(second.data, second.timestamp, second.id); // written on a row of its own, settled
      return result;
    });
    try {
      await processor.process(first.data, first.timestamp, first.id);
    } finally {
      raced.mockRestore();
    }
    expect((await stateOf(id, u.token)).status).toBe('ISSUED');
    expect(await couponFacts(t.sql, id)).toMatchObject({ rows: 1, counter: 1 });
    expect((await t.http('GET', `/coupons/${id}/stats`, { token: admin })).body).toMatchObject({ redisReserved: 1, pending: 0 });
  });

  it('a withdrawal marked in Redis that its API never recorded (it died between the two steps): the request settles as issued, not pending for ever', async () => {
    const id = await t.createCoupon(admin, 2, 'evidence');
    const [u] = await t.users(1);
    const job = await askQueued(id, u.token, u.userId, undefined, true);
    // the withdrawal's first step alone (give-back.lua marks it); no 204, nothing recorded in PostgreSQL
    const store = t.app.get(ReservationStore, { strict: false });
    expect((await store.beginGiveBack(id, u.userId, { withdrawPending: true })).step).toBe('WITHDRAWING');
    await t.app.get(IssueProcessor, { strict: false }).process(job.data, job.timestamp, job.id);
    // before: the request stayed pending with its mark, and the sweeper handed it to a worker every 2 s
    expect((await stateOf(id, u.token)).status).toBe('ISSUED');
    expect(await couponFacts(t.sql, id)).toMatchObject({ rows: 1, counter: 1 });
    expect((await t.http('GET', `/coupons/${id}/stats`, { token: admin })).body).toMatchObject({ redisReserved: 1, pending: 0 });
    // theirs, to give back like any other
    expect((await t.http('DELETE', `/coupons/${id}/issue`, { token: u.token })).status).toBe(204);
    expect(await couponFacts(t.sql, id)).toMatchObject({ rows: 0, counter: 0 });
    expect((await t.http('GET', `/coupons/${id}/stats`, { token: admin })).body).toMatchObject({ redisReserved: 0, pending: 0 });
  });

  it("PostgreSQL's clock a minute ahead of Redis': a give-back recorded before the user asked again does not take the new row", async () => {
    const id = await t.createCoupon(admin, 2, 'evidence');
    const [u] = await t.users(1);
    await askQueued(id, u.token, u.userId);
    await untilIdle(t, admin, id);
    expect((await t.http('DELETE', `/coupons/${id}/issue`, { token: u.token })).status).toBe(204);
    await t.sql.query(`UPDATE coupon_issue_cancellations SET cancelled_at = cancelled_at + interval '1 minute' WHERE coupon_id = $1`, [id]);
    await askQueued(id, u.token, u.userId, async () => {
      // Redis forgets the holder before the worker settles (a rebuild that read around the write)
      const k = couponKeys(id);
      await t.redis.srem(k.holders, String(u.userId));
      await t.redis.hincrby(k.meta, 'taken', -1);
    });
    await untilIdle(t, admin, id);
    expect((await stateOf(id, u.token)).status).toBe('ISSUED');
    expect(await couponFacts(t.sql, id)).toMatchObject({ rows: 1, counter: 1 });
  });
});
