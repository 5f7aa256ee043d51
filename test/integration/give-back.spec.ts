import { IssuanceStrategyName } from '../../src/config/issuance.config';
import { couponKeys } from '../../src/issuance/reservation/coupon-keys';
import type { LoadTestUser } from '../../load/load-test-users';
import { fire, untilSettled } from '../support/burst';
import { countStatuses, couponFacts, expectHolders } from '../support/invariants';
import { untilIdle } from '../support/queue-state';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Giving back and revoking, through HTTP, for every strategy: the unit is in stock again at once,
 * for whoever asks next; a redeemed coupon stays; the history keeps who gave back what.
 */
const STRATEGIES: IssuanceStrategyName[] = ['pessimistic', 'redis', 'queue'];

describe.each(STRATEGIES)('give back and revoke: %s', (strategy) => {
  let t: TestApp;
  let admin: string;

  beforeAll(async () => {
    t = await startTestApp(strategy, { RATE_LIMIT_ISSUE_PER_SECOND: '0' });
    admin = await t.adminToken();
  });
  afterAll(() => t.close());

  const create = (totalQuantity: number) => t.createCoupon(admin, totalQuantity, `give back ${strategy}`);
  const stats = async (id: number) => (await t.http('GET', `/coupons/${id}/stats`, { token: admin })).body;
  const giveBack = (id: number, token: string) => t.http('DELETE', `/coupons/${id}/issue`, { token });
  const revoke = (id: number, issueId: number, token = admin) => t.http('DELETE', `/coupons/${id}/issues/${issueId}`, { token });
  const idle = (id: number) => (strategy === 'queue' ? untilIdle(t, admin, id) : stats(id));

  /** Each user asks at once; a 202 counts as a yes only once it settled ISSUED. Returns who holds one. */
  async function ask(id: number, users: LoadTestUser[]): Promise<{ winners: Set<number>; statuses: Record<number, number> }> {
    const answers = await fire(t.http, id, users);
    for (const a of answers.filter((x) => x.status === 202)) {
      const settled = await untilSettled(t.http, id, a.token);
      Object.assign(a, settled.status === 'ISSUED' ? { status: 201 } : { status: 409, code: settled.reason });
    }
    return { winners: new Set(answers.filter((a) => a.status === 201).map((a) => a.userId)), statuses: countStatuses(answers) };
  }

  const issueOf = async (id: number, token: string) => (await t.http('GET', `/coupons/${id}/issue`, { token })).body.issue;

  it('a holder gives back: 204, the unit is in stock for the next one, the history keeps it, and they may ask again', async () => {
    const id = await create(1);
    const [holder, next] = await t.users(2);
    expect((await ask(id, [holder])).winners).toEqual(new Set([holder.userId]));
    const issue = await issueOf(id, holder.token);
    expect((await ask(id, [next])).statuses).toEqual({ 409: 1 }); // sold out

    expect((await giveBack(id, holder.token)).status).toBe(204);
    expect(await stats(id)).toMatchObject({ issuedQuantity: 0, issuedRows: 0, remainingQuantity: 1, cancelledQuantity: 1 });
    expect((await t.http('GET', `/coupons/${id}/issue`, { token: holder.token })).body.code).toBe('NOT_REQUESTED');
    expect((await t.http('GET', '/users/me/coupons', { token: holder.token })).body.items).toEqual([]);
    const { rows } = await t.sql.query('SELECT issue_id, user_id, code, reason FROM coupon_issue_cancellations WHERE coupon_id = $1', [id]);
    expect(rows).toEqual([{ issue_id: issue.issueId, user_id: holder.userId, code: issue.code, reason: 'GIVEN_BACK' }]);
    // the code is gone: redeeming it is the same 404 as an unknown code
    expect((await t.http('POST', '/issues/redeem', { token: holder.token, body: { code: issue.code } })).body.code).toBe('ISSUE_NOT_FOUND');
    // twice is 404: nothing is held any more
    expect((await giveBack(id, holder.token)).body.code).toBe('NOT_REQUESTED');

    expect((await ask(id, [next])).winners).toEqual(new Set([next.userId]));
    expect((await giveBack(id, next.token)).status).toBe(204);
    expect((await ask(id, [holder])).winners).toEqual(new Set([holder.userId])); // the caller included
    await idle(id);
    await expectHolders(t.sql, id, new Set([holder.userId]));
    expect(await stats(id)).toMatchObject({ cancelledQuantity: 2, remainingQuantity: 0 });
  });

  it('a redeemed coupon can be neither given back nor revoked; nothing held is 404; an unknown coupon is COUPON_NOT_FOUND', async () => {
    const id = await create(5);
    const [holder, stranger] = await t.users(2);
    await ask(id, [holder]);
    const issue = await issueOf(id, holder.token);
    expect((await t.http('POST', '/issues/redeem', { token: holder.token, body: { code: issue.code } })).status).toBe(200);

    expect(await giveBack(id, holder.token)).toMatchObject({ status: 409, body: { code: 'ALREADY_REDEEMED' } });
    expect(await revoke(id, issue.issueId)).toMatchObject({ status: 409, body: { code: 'ALREADY_REDEEMED' } });
    expect(await giveBack(id, stranger.token)).toMatchObject({ status: 404, body: { code: 'NOT_REQUESTED' } });
    expect(await giveBack(999_999_999, holder.token)).toMatchObject({ status: 404, body: { code: 'COUPON_NOT_FOUND' } });
    expect((await giveBack(0, holder.token)).status).toBe(400);
    await idle(id);
    await expectHolders(t.sql, id, new Set([holder.userId]));
    expect(await stats(id)).toMatchObject({ redeemedQuantity: 1, cancelledQuantity: 0, remainingQuantity: 4 });
  });

  it('an admin revokes one issue: 204 and the unit returns; a user may not; unknown or already revoked is ISSUE_NOT_FOUND', async () => {
    const id = await create(2);
    const [a, b, c] = await t.users(3);
    await ask(id, [a, b]);
    const issue = await issueOf(id, a.token);

    expect(await revoke(id, issue.issueId, b.token)).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    expect((await revoke(id, issue.issueId)).status).toBe(204);
    expect(await revoke(id, issue.issueId)).toMatchObject({ status: 404, body: { code: 'ISSUE_NOT_FOUND' } });
    expect(await revoke(id, 2_000_000_000)).toMatchObject({ status: 404, body: { code: 'ISSUE_NOT_FOUND' } });
    expect((await revoke(id, -1)).status).toBe(400);
    const other = await create(1);
    expect(await revoke(other, (await issueOf(id, b.token)).issueId)).toMatchObject({ status: 404, body: { code: 'ISSUE_NOT_FOUND' } });

    expect((await t.http('GET', `/coupons/${id}/issue`, { token: a.token })).body.code).toBe('NOT_REQUESTED');
    const { rows } = await t.sql.query('SELECT user_id, reason FROM coupon_issue_cancellations WHERE issue_id = $1', [issue.issueId]);
    expect(rows).toEqual([{ user_id: a.userId, reason: 'REVOKED' }]);
    expect((await ask(id, [c])).winners).toEqual(new Set([c.userId]));
    await idle(id);
    await expectHolders(t.sql, id, new Set([b.userId, c.userId]));
  });

  it('a give-back storm: 50 of 100 holders give back while 250 newcomers ask; then a second round takes what came back', async () => {
    const id = await create(100);
    const holders = await t.users(100);
    expect((await ask(id, holders)).winners.size).toBe(100);
    const leaving = holders.slice(0, 50);
    const crowd = await t.users(250);

    const [backs, first] = await Promise.all([Promise.all(leaving.map((u) => giveBack(id, u.token))), ask(id, crowd)]);
    expect(countStatuses(backs)).toEqual({ 204: 50 });
    await idle(id);
    const firstWinners = first.winners;
    expect(firstWinners.size).toBeLessThanOrEqual(50);

    const latecomers = crowd.filter((u) => !firstWinners.has(u.userId));
    const second = await ask(id, latecomers);
    await idle(id);
    const stayed = holders.slice(50).map((u) => u.userId);
    const facts = await expectHolders(t.sql, id, new Set([...stayed, ...firstWinners, ...second.winners]));
    expect(facts.rows).toBe(100); // every unit that came back was taken again, once
    expect(leaving.some((u) => facts.holders.has(u.userId))).toBe(false);
    expect(await stats(id)).toMatchObject({ cancelledQuantity: 50, remainingQuantity: 0, pending: 0 });
    if (strategy !== 'pessimistic') {
      // Redis and PostgreSQL agree: rebuilding the state from PostgreSQL changes nothing
      const before = await stats(id);
      expect(before.redisReserved).toBe(100);
      expect((await t.http('POST', `/coupons/${id}/reconcile`, { token: admin })).body).toMatchObject({ redisReserved: 100, issuedRows: 100 });
    }
  });

  if (strategy !== 'pessimistic') {
    it("the coupon's Redis state lost after give-backs: the rebuilt state counts only what PostgreSQL holds", async () => {
      const id = await create(10);
      const users = await t.users(10);
      await ask(id, users);
      for (const u of users.slice(0, 4)) expect((await giveBack(id, u.token)).status).toBe(204);
      await idle(id);
      const k = couponKeys(id);
      await t.redis.del(k.meta, k.holders, k.pending, k.rejected, k.withdrawn, k.returning); // as after a restart with nothing kept

      const crowd = await t.users(20);
      const { winners } = await ask(id, crowd);
      expect(winners.size).toBe(4);
      await idle(id);
      await expectHolders(t.sql, id, new Set([...users.slice(4).map((u) => u.userId), ...winners]));
      expect(await stats(id)).toMatchObject({ redisReserved: 10, issuedRows: 10, cancelledQuantity: 4 });
    });
  }

  it('give back and redeem the same coupon at once, many times over: exactly one of them wins each time', async () => {
    const id = await create(20);
    const users = await t.users(20);
    await ask(id, users);
    const issues = await Promise.all(users.map((u) => issueOf(id, u.token)));
    const outcomes = await Promise.all(
      users.map(async (u, i) => {
        const [back, redeemed] = await Promise.all([
          giveBack(id, u.token),
          t.http('POST', '/issues/redeem', { token: u.token, body: { code: issues[i].code } }),
        ]);
        return { back: back.status, redeem: redeemed.status };
      }),
    );
    for (const o of outcomes) expect([o.back, o.redeem].sort()).toEqual(o.back === 204 ? [204, 404] : [200, 409]);
    await idle(id);
    const facts = await couponFacts(t.sql, id);
    const givenBack = outcomes.filter((o) => o.back === 204).length;
    expect(facts.rows).toBe(20 - givenBack);
    expect(await stats(id)).toMatchObject({ redeemedQuantity: 20 - givenBack, cancelledQuantity: givenBack, issuedQuantity: 20 - givenBack });
  });
});
