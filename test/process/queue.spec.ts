import { couponKeys } from '../../src/issuance/reservation/coupon-keys';
import { IssueWriter } from '../../src/issuance/issue-writer';
import { IssuanceStrategy } from '../../src/issuance/strategies/issuance.strategy';
import { PendingSweeper } from '../../src/issuance/queue/pending-sweeper';
import { IssueProcessor } from '../../src/issuance/queue/issue.processor';
import { PendingRequests } from '../../src/issuance/reservation/pending-requests';
import { ReservationStore } from '../../src/issuance/reservation/reservation.store';
import { couponFacts } from '../support/invariants';
import { singleShardQueue, untilIdle } from '../support/queue-state';
import { until } from '../support/burst';
import { holdCouponRow, untilLockWaiters } from '../support/row-lock';
import { startTestApp, TestApp } from '../support/test-app';

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

  it('a job redelivered after its request was settled and given back writes nothing: no unit held by a row that is only taken back again', async () => {
    const id = await create(2); // room for the stale row: written, it would hold a unit until taken back
    const [u, next] = await t.users(2);
    const queue = singleShardQueue();
    await queue.pause();
    let jobId: string;
    try {
      expect((await t.http('POST', `/coupons/${id}/issue`, { token: u.token })).status).toBe(202);
      jobId = await until(async () => (await t.redis.hget(couponKeys(id).pending, String(u.userId)))?.split(':')[1]);
    } finally {
      await queue.resume();
      await queue.close();
      (await queue.client).disconnect();
    }
    await untilIdle(t, admin, id);
    expect((await t.http('DELETE', `/coupons/${id}/issue`, { token: u.token })).status).toBe(204);
    expect((await t.http('POST', `/coupons/${id}/issue`, { token: next.token })).status).toBe(202);
    await untilIdle(t, admin, id);
    // BullMQ hands the finished job over once more (its worker died before acknowledging it)
    await t.app.get(IssueProcessor, { strict: false }).process({ couponId: id, userIds: [u.userId] }, Date.now(), jobId);
    const { rows } = await t.sql.query(`SELECT user_id FROM coupon_issue_cancellations WHERE coupon_id = $1`, [id]);
    expect(rows).toEqual([{ user_id: u.userId }]); // the give-back alone: nothing written, nothing taken back again
    expect((await t.http('GET', `/coupons/${id}/issue`, { token: next.token })).body.status).toBe('ISSUED');
    expect(await couponFacts(t.sql, id)).toMatchObject({ rows: 1, counter: 1 });
  });

  it('a request accepted before its coupon was paused is written all the same: it was decided when accepted', async () => {
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
