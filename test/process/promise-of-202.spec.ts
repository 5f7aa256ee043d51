import { couponKeys } from '../../src/issuance/reservation/coupon-keys';
import { IssueCanceller } from '../../src/issuance/issue-canceller';
import { ReservationStore } from '../../src/issuance/reservation/reservation.store';
import { ReservationRebuild } from '../../src/issuance/reservation/reservation-rebuild';
import { until } from '../support/burst';
import { countStatuses, couponFacts } from '../support/invariants';
import { holdCouponRow, untilLockWaiters } from '../support/row-lock';
import { singleShardQueue, untilIdle } from '../support/queue-state';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * The promise of a 202 (queue): a request accepted ends ISSUED unless its user withdraws it,
 * whatever happens after it was accepted. Each case makes a backlog (the queue paused, as when
 * the workers are busy or not started yet; or the coupon's row held, so a write waits in
 * PostgreSQL), makes the change, then lets the backlog be written.
 */
describe('queue strategy: a 202 is kept whatever happens after it', () => {
  let t: TestApp;
  let admin: string;

  beforeAll(async () => {
    t = await startTestApp('queue', { RATE_LIMIT_ISSUE_PER_SECOND: '0' });
    admin = await t.adminToken();
  });
  afterAll(() => t.close());

  /**
   * `n` users ask while their jobs wait (`queue`: the queue paused; `row`: the coupon's row held,
   * the worker's write waiting on it); `meanwhile` runs before the backlog is let go.
   */
  async function backlog(
    total: number,
    n: number,
    meanwhile: (id: number, users: { userId: number; token: string }[]) => Promise<void>,
    held: 'queue' | 'row' = 'queue',
  ) {
    const id = await t.createCoupon(admin, total, 'backlog');
    const users = await t.users(n);
    const queue = singleShardQueue();
    let lock: { release: () => Promise<void> } | undefined;
    try {
      if (held === 'queue') await queue.pause();
      else lock = await holdCouponRow(t.sql, id);
      const answers = await Promise.all(users.map((u) => t.http('POST', `/coupons/${id}/issue`, { token: u.token })));
      expect(countStatuses(answers)).toEqual({ 202: n });
      if (held === 'row') await untilLockWaiters(t.sql, 1); // the worker's write has reached PostgreSQL and waits
      await meanwhile(id, users);
    } finally {
      await lock?.release();
      await queue.resume();
      await queue.close();
      (await queue.client).disconnect();
    }
    await untilIdle(t, admin, id);
    return { id, users };
  }

  const expectAllIssued = async (id: number, users: { userId: number; token: string }[]) => {
    for (const u of users) expect((await t.http('GET', `/coupons/${id}/issue`, { token: u.token })).body.status).toBe('ISSUED');
    expect(await couponFacts(t.sql, id)).toMatchObject({ rows: users.length, counter: users.length, duplicateHolders: 0 });
  };

  it('a backlog written after the coupon ended is issued, not REJECTED NOT_OPEN', async () => {
    const { id, users } = await backlog(30, 20, async (couponId) => {
      const endsAt = new Date(Date.now() + 300).toISOString();
      expect((await t.http('PATCH', `/coupons/${couponId}`, { token: admin, body: { endsAt } })).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 400)); // the window has closed before the write commits
    });
    await expectAllIssued(id, users);
  });

  it('a backlog written after the coupon was paused is issued', async () => {
    const { id, users } = await backlog(30, 10, async (couponId) => {
      expect((await t.http('PATCH', `/coupons/${couponId}`, { token: admin, body: { status: 'PAUSED' } })).status).toBe(200);
    });
    await expectAllIssued(id, users);
  });

  it('PATCH may not lower the total below what is pending: 409 QUANTITY_BELOW_ISSUED, and every 202 is issued', async () => {
    const { id, users } = await backlog(30, 25, async (couponId) => {
      const lower = await t.http('PATCH', `/coupons/${couponId}`, { token: admin, body: { totalQuantity: 20 } });
      expect(lower.status).toBe(409);
      expect(lower.body.code).toBe('QUANTITY_BELOW_ISSUED');
      // down to exactly what is owed is fine, and takes effect at once: nobody else is accepted
      expect((await t.http('PATCH', `/coupons/${couponId}`, { token: admin, body: { totalQuantity: 25 } })).status).toBe(200);
      const [late] = await t.users(1);
      expect((await t.http('POST', `/coupons/${couponId}/issue`, { token: late.token })).body.code).toBe('SOLD_OUT');
    });
    await expectAllIssued(id, users);
  });

  it("two PATCHes of the total at once, a raise committing between a lowering's guard and its commit: no 202 beyond the total that stands", async () => {
    // seen by npm run chaos (seed 3114): the raise's listener put its total back in Redis, a
    // newcomer was accepted against it, then the lower total committed and the newcomer's write
    // was refused, REJECTED SOLD_OUT after a 202
    const rebuild = t.app.get(ReservationRebuild, { strict: false });
    const guardChange = rebuild.guardChange.bind(rebuild);
    const [newcomer] = await t.users(1);
    let raised: Promise<{ status: number }> | undefined;
    let late: { status: number } | undefined;
    const { id, users } = await backlog(35, 30, async (couponId) => {
      const spy = jest.spyOn(rebuild, 'guardChange').mockImplementationOnce(async (cid, change) => {
        await guardChange(cid, change); // 30 in force in Redis, not yet in PostgreSQL
        raised = t.http('PATCH', `/coupons/${couponId}`, { token: admin, body: { totalQuantity: 31 } });
        await Promise.race([raised, untilLockWaiters(t.sql, 1)]); // now it waits for this change to end
        late = await t.http('POST', `/coupons/${couponId}/issue`, { token: newcomer.token });
      });
      try {
        expect((await t.http('PATCH', `/coupons/${couponId}`, { token: admin, body: { totalQuantity: 30 } })).status).toBe(200);
      } finally {
        spy.mockRestore();
      }
      expect((await raised!).status).toBe(200);
    });
    const accepted = late!.status === 202 ? [...users, newcomer] : users;
    await expectAllIssued(id, accepted);
    const { total } = await couponFacts(t.sql, id);
    expect(accepted.length).toBeLessThanOrEqual(total);
  });

  it('DELETE is refused while requests are pending (409 COUPON_HAS_ISSUES), and every 202 is issued', async () => {
    const { id, users } = await backlog(10, 5, async (couponId) => {
      const gone = await t.http('DELETE', `/coupons/${couponId}`, { token: admin });
      expect(gone.status).toBe(409);
      expect(gone.body.code).toBe('COUPON_HAS_ISSUES');
    });
    await expectAllIssued(id, users);
    // refused, the coupon still takes requests
    const [next] = await t.users(1);
    expect((await t.http('POST', `/coupons/${id}/issue`, { token: next.token })).status).toBe(202);
  });

  it('a request withdrawn (204) can be asked again at once: a new 202, which ends ISSUED', async () => {
    let user!: { userId: number; token: string };
    const { id } = await backlog(
      5,
      1,
      async (couponId) => {
        [user] = await t.users(1);
        expect((await t.http('POST', `/coupons/${couponId}/issue`, { token: user.token })).status).toBe(202);
        expect((await t.http('DELETE', `/coupons/${couponId}/issue`, { token: user.token })).status).toBe(204);
        const again = await t.http('POST', `/coupons/${couponId}/issue`, { token: user.token });
        expect(again.status).toBe(202);
      },
      'row',
    );
    await untilIdle(t, admin, id);
    expect((await t.http('GET', `/coupons/${id}/issue`, { token: user.token })).body.status).toBe('ISSUED');
    expect(await couponFacts(t.sql, id)).toMatchObject({ rows: 2, counter: 2, duplicateHolders: 0 });
  });

  it('withdrawn through an API whose clock runs 5 s ahead, then asked again at once through one on time: the new 202 ends ISSUED', async () => {
    const realNow = Date.now.bind(Date);
    const { id, users } = await backlog(5, 1, async (couponId, [u]) => {
      const ahead = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + 5000);
      try {
        expect((await t.http('DELETE', `/coupons/${couponId}/issue`, { token: u.token })).status).toBe(204);
      } finally {
        ahead.mockRestore();
      }
    });
    expect(await couponFacts(t.sql, id)).toMatchObject({ rows: 0, counter: 0 }); // the withdrawn request, taken back
    const [u] = users;
    expect((await t.http('POST', `/coupons/${id}/issue`, { token: u.token })).status).toBe(202);
    await untilIdle(t, admin, id);
    // the new ask is ordered after the withdrawal by the coupon's Redis clock, not by the APIs' clocks
    expect((await t.http('GET', `/coupons/${id}/issue`, { token: u.token })).body.status).toBe('ISSUED');
    expect(await couponFacts(t.sql, id)).toMatchObject({ rows: 1, counter: 1, duplicateHolders: 0 });
  });

  it('Redis emptied while a write waits, and rebuilt by a newcomer before it commits: the written rows stay', async () => {
    let newcomer!: Promise<{ status: number }>;
    const { id, users } = await backlog(
      40,
      30,
      async (couponId) => {
        await t.redis.flushdb(); // the pending records go; the job is already in the worker's hands
        const [late] = await t.users(1);
        newcomer = t.http('POST', `/coupons/${couponId}/issue`, { token: late.token }); // rebuilds the state
        await untilLockWaiters(t.sql, 2); // the rebuild waits for the write it must not read around
      },
      'row',
    );
    const late = await newcomer;
    expect([202, 503]).toContain(late.status); // 503: the rebuild waited longer than the lock timeout
    for (const u of users) expect((await t.http('GET', `/coupons/${id}/issue`, { token: u.token })).body.status).toBe('ISSUED');
    const facts = await couponFacts(t.sql, id);
    expect(facts).toMatchObject({ rows: 30 + (late.status === 202 ? 1 : 0), duplicateHolders: 0 });
    expect(facts.counter).toBe(facts.rows);
    const { rows } = await t.sql.query('SELECT count(*)::int AS n FROM coupon_issue_cancellations WHERE coupon_id = $1', [id]);
    expect(rows[0].n).toBe(0); // nobody gave anything back, so nothing was taken back
    // Redis counts what PostgreSQL holds (and nothing twice)
    const stats = (await t.http('GET', `/coupons/${id}/stats`, { token: admin })).body;
    expect(stats.redisReserved).toBe(stats.issuedRows);
  });

  describe('Redis losing its state in the middle of a give-back or a withdrawal', () => {
    const store = () => t.app.get(ReservationStore, { strict: false });

    it('a give-back that finds no state rebuilds it first: the holder is judged RETURNING, not NOT_HELD', async () => {
      // NOT_HELD left the unit to whichever rebuild came next; one that read the row before the
      // give-back deleted it listed the user for good (seen by npm run chaos: a flush mid-give-back)
      const { id, users } = await backlog(5, 1, async () => undefined);
      await t.redis.flushdb();
      const { step } = await store().beginGiveBack(id, users[0].userId, { withdrawPending: true });
      expect(step).toBe('RETURNING');
      expect(await t.redis.sismember(couponKeys(id).holders, String(users[0].userId))).toBe(1);
    });

    it('a give-back judged NOT_HELD (Redis had forgotten the holder) while a writer lists them again: the unit still goes back', async () => {
      const { id, users } = await backlog(5, 1, async () => undefined);
      const { userId, token } = users[0];
      const keys = couponKeys(id);
      await t.redis.srem(keys.holders, String(userId)); // forgotten, as after a rebuild that read around the write
      await t.redis.hincrby(keys.meta, 'taken', -1);
      const canceller = t.app.get(IssueCanceller, { strict: false });
      const cancel = canceller.cancel.bind(canceller);
      // the writer's settle lists them again between the give-back's judgment and its PostgreSQL step
      const spy = jest.spyOn(canceller, 'cancel').mockImplementationOnce(async (couponId, request) => {
        await store().restoreHolder(couponId, request.userId);
        return cancel(couponId, request);
      });
      try {
        expect((await t.http('DELETE', `/coupons/${id}/issue`, { token })).status).toBe(204);
      } finally {
        spy.mockRestore();
      }
      expect((await t.http('GET', `/coupons/${id}/stats`, { token: admin })).body).toMatchObject({ issuedRows: 0, redisReserved: 0, remainingQuantity: 5 });
    });

    /** Waits until the coupon's jobs are done (with Redis' state lost, nothing counts as pending). */
    const untilJobsDone = (id: number) =>
      until(async () => ((await t.http('GET', `/coupons/${id}/stats`, { token: admin })).body.queueDepth === 0 ? true : undefined), {
        what: 'the queued jobs written',
      });
    const expectWithdrawn = async (id: number, user: { userId: number; token: string }) => {
      expect((await t.http('GET', `/coupons/${id}/issue`, { token: user.token })).body.code).toBe('NOT_REQUESTED');
      expect(await couponFacts(t.sql, id)).toMatchObject({ rows: 0, counter: 0 });
    };

    it("a withdrawal answered 204, then the coupon's Redis state lost before the worker writes: the row is taken back all the same", async () => {
      const { id, users } = await backlog(5, 1, async (couponId, [user]) => {
        expect((await t.http('DELETE', `/coupons/${couponId}/issue`, { token: user.token })).status).toBe(204);
        const k = couponKeys(couponId);
        await t.redis.del(k.meta, k.holders, k.pending, k.rejected, k.withdrawn, k.returning); // the job itself is kept
      });
      await untilJobsDone(id);
      await expectWithdrawn(id, users[0]);
      const { rows } = await t.sql.query(`SELECT reason FROM coupon_issue_cancellations WHERE coupon_id = $1`, [id]);
      expect(rows).toEqual([{ reason: 'GIVEN_BACK' }]);
    });

    it('a withdrawal answered 204 whose mark alone Redis lost (its request still pending): the row is taken back and the unit released', async () => {
      const { id, users } = await backlog(5, 1, async (couponId, [user]) => {
        expect((await t.http('DELETE', `/coupons/${couponId}/issue`, { token: user.token })).status).toBe(204);
        await t.redis.srem(couponKeys(couponId).withdrawn, String(user.userId)); // as an append-only file a moment short
      });
      await untilJobsDone(id);
      await expectWithdrawn(id, users[0]);
      expect((await t.http('GET', `/coupons/${id}/stats`, { token: admin })).body).toMatchObject({ pending: 0, redisReserved: 0, remainingQuantity: 5 });
    });

    it('a withdrawal on record, then the state rebuilt on a Redis whose clock is a minute behind (a failover): a new ask is stamped after it, and ends ISSUED', async () => {
      const { id, users } = await backlog(5, 1, async (couponId, [user]) => {
        expect((await t.http('DELETE', `/coupons/${couponId}/issue`, { token: user.token })).status).toBe(204);
      });
      expect(await couponFacts(t.sql, id)).toMatchObject({ rows: 0 });
      // the old master stamped the withdrawal a minute ahead of the clock of the Redis that now holds the coupon
      await t.sql.query(`UPDATE coupon_withdrawals SET withdrawn_at = withdrawn_at + interval '1 minute' WHERE coupon_id = $1`, [id]);
      const k = couponKeys(id);
      await t.redis.del(k.meta, k.holders, k.pending, k.rejected, k.withdrawn, k.returning);
      expect((await t.http('POST', `/coupons/${id}/issue`, { token: users[0].token })).status).toBe(202);
      await untilIdle(t, admin, id);
      expect((await t.http('GET', `/coupons/${id}/issue`, { token: users[0].token })).body.status).toBe('ISSUED');
      expect(await couponFacts(t.sql, id)).toMatchObject({ rows: 1, counter: 1 });
    });

    it('a withdrawal whose mark Redis lost, the user not asking again: the unit is released, not written back for them', async () => {
      const { id, users } = await backlog(5, 1, async () => undefined);
      const userId = users[0].userId;
      // as when the worker's settle saw the withdrawal, then the mark went with Redis' state
      await t.redis.sadd(couponKeys(id).withdrawn, String(userId));
      await t.redis.srem(couponKeys(id).withdrawn, String(userId));
      expect(await store().releaseWithdrawn(id, userId, Date.now())).toBe(true);
      expect(await t.redis.sismember(couponKeys(id).holders, String(userId))).toBe(0);
    });
  });
});
