import { DataSource } from 'typeorm';
import { IssuanceStrategyName } from '../../src/config/issuance.config';
import { fire, until, untilSettled } from '../support/burst';
import { countStatuses } from '../support/invariants';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * The coupon's life after issuance: validity, expiry and redemption, through HTTP, for every
 * strategy (each issues its own way; redemption is decided in PostgreSQL for all).
 */
const STRATEGIES: IssuanceStrategyName[] = ['pessimistic', 'redis', 'queue'];

describe.each(STRATEGIES)('redemption and validity: %s', (strategy) => {
  let t: TestApp;
  let admin: string;

  beforeAll(async () => {
    t = await startTestApp(strategy, { RATE_LIMIT_ISSUE_PER_SECOND: '0' });
    admin = await t.adminToken();
  });
  afterAll(() => t.close());

  const createCoupon = async (body: Record<string, unknown>) => {
    const res = await t.http('POST', '/coupons', { token: admin, body: { name: `life ${strategy}`, totalQuantity: 10, ...body } });
    expect(res.status).toBe(201);
    return res.body;
  };

  /** Issues one to each user (settling a 202); returns their issues as GET /coupons/:id/issue shows them. */
  const issueTo = async (couponId: number, users: { userId: number; token: string }[]) => {
    const answers = await fire(t.http, couponId, users);
    expect(answers.every((a) => a.status === 201 || a.status === 202)).toBe(true);
    return Promise.all(users.map(async (u) => (await untilSettled(t.http, couponId, u.token)).issue));
  };

  const redeem = (token: string, code: string, orderRef?: string) =>
    t.http('POST', '/issues/redeem', { token, body: { code, ...(orderRef ? { orderRef } : {}) } });

  it('50 redemptions of one code at once: exactly one 200, 49 ALREADY_REDEEMED; the same orderRef again is 200', async () => {
    const coupon = await createCoupon({});
    const [holder] = await t.users(1);
    const [issue] = await issueTo(coupon.id, [holder]);
    expect(issue).toMatchObject({ status: 'ISSUED', expiresAt: null, redeemedAt: null });

    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => redeem(holder.token, issue.code, `order-${i}`)));
    expect(countStatuses(answers)).toEqual({ 200: 1, 409: 49 });
    expect(answers.filter((a) => a.status === 409).every((a) => a.body.code === 'ALREADY_REDEEMED')).toBe(true);
    const winner = answers.find((a) => a.status === 200)!;
    expect(winner.body).toMatchObject({ issueId: issue.issueId, status: 'REDEEMED', redeemedAt: expect.any(String) });

    const { rows } = await t.sql.query('SELECT redeemed_at, order_ref FROM coupon_issues WHERE id = $1', [issue.issueId]);
    const winningOrder = rows[0].order_ref as string;
    expect(rows[0].redeemed_at.toISOString()).toBe(winner.body.redeemedAt);
    expect(answers.indexOf(winner)).toBe(Number(winningOrder.split('-')[1])); // the one that won wrote its orderRef

    // a retried checkout with the same order is told yes again; another order is not
    expect(await redeem(holder.token, issue.code, winningOrder)).toMatchObject({ status: 200, body: { status: 'REDEEMED' } });
    expect((await redeem(holder.token, issue.code, 'another-order')).body.code).toBe('ALREADY_REDEEMED');
    expect((await redeem(holder.token, issue.code)).body.code).toBe('ALREADY_REDEEMED');
    expect((await t.http('GET', '/users/me/coupons?status=REDEEMED', { token: holder.token })).body.items).toEqual([
      expect.objectContaining({ issueId: issue.issueId, status: 'REDEEMED' }),
    ]);
    expect((await t.http('GET', `/coupons/${coupon.id}/stats`, { token: admin })).body).toMatchObject({
      issuedRows: 1,
      redeemedQuantity: 1,
      cancelledQuantity: 0,
    });
    expect((await t.http('GET', `/coupons/${coupon.id}/issues`, { token: admin })).body.items).toEqual([
      expect.objectContaining({ issueId: issue.issueId, status: 'REDEEMED', redeemedAt: winner.body.redeemedAt }),
    ]);
  });

  it("another user's code, and an unknown code, are the same 404; an admin redeems for the holder", async () => {
    const coupon = await createCoupon({});
    const [holder, other] = await t.users(2);
    const [issue] = await issueTo(coupon.id, [holder]);
    const foreign = await redeem(other.token, issue.code);
    const unknown = await redeem(other.token, 'NoSuchCode0000000000');
    expect(foreign).toMatchObject({ status: 404, body: { code: 'ISSUE_NOT_FOUND' } });
    expect(unknown.body.message).toBe(foreign.body.message);
    expect((await t.sql.query('SELECT redeemed_at FROM coupon_issues WHERE id = $1', [issue.issueId])).rows[0].redeemed_at).toBeNull();

    const byCheckout = await redeem(admin, issue.code, 'checkout-1');
    expect(byCheckout).toMatchObject({ status: 200, body: { userId: holder.userId, status: 'REDEEMED' } });
  });

  it('refuses bad input with 400 and changes nothing', async () => {
    const coupon = await createCoupon({});
    const [holder] = await t.users(1);
    const [issue] = await issueTo(coupon.id, [holder]);
    for (const body of [
      {},
      { code: '' },
      { code: issue.code, orderRef: '' },
      { code: issue.code, orderRef: 'a b' },
      { code: issue.code, extra: 1 },
      { code: 42 },
    ]) {
      expect((await t.http('POST', '/issues/redeem', { token: holder.token, body })).status).toBe(400);
    }
    for (const body of [{ validDays: 0 }, { validDays: 1.5 }, { validDays: 3651 }, { redeemUntil: 'soon' }]) {
      expect((await t.http('POST', '/coupons', { token: admin, body: { name: 'bad validity', totalQuantity: 1, ...body } })).status).toBe(400);
    }
    expect((await t.sql.query('SELECT redeemed_at FROM coupon_issues WHERE id = $1', [issue.issueId])).rows[0].redeemed_at).toBeNull();
  });

  it('validity: expiresAt is the earlier of issuedAt + validDays and redeemUntil; past it, EXPIRED and ISSUE_EXPIRED', async () => {
    const redeemUntil = new Date(Date.now() + 2500);
    const coupon = await createCoupon({ validDays: 30, redeemUntil: redeemUntil.toISOString() });
    expect(coupon).toMatchObject({ validDays: 30, redeemUntil: redeemUntil.toISOString() });
    const [holder] = await t.users(1);
    const [issue] = await issueTo(coupon.id, [holder]);
    expect(issue).toMatchObject({ status: 'ISSUED', expiresAt: redeemUntil.toISOString() });

    // longer validity by days alone: issuedAt + 30 days
    const byDays = await createCoupon({ validDays: 30 });
    const [issueByDays] = await issueTo(byDays.id, [holder]);
    expect(Date.parse(issueByDays.expiresAt) - Date.parse(issueByDays.issuedAt)).toBe(30 * 24 * 3600 * 1000);

    const mine = (status: string) => t.http('GET', `/users/me/coupons?status=${status}`, { token: holder.token });
    expect((await mine('ISSUED')).body.items.map((i: { issueId: number }) => i.issueId)).toEqual([issueByDays.issueId, issue.issueId]);
    // expiry comes from time, not from a job: wait until the listing says so
    await until(async () => ((await mine('EXPIRED')).body.items.length === 1 ? true : undefined), { timeoutMs: 10_000, what: 'the issue to expire' });
    expect((await mine('EXPIRED')).body.items).toEqual([expect.objectContaining({ issueId: issue.issueId, status: 'EXPIRED', redeemedAt: null })]);
    expect((await mine('ISSUED')).body.items.map((i: { issueId: number }) => i.issueId)).toEqual([issueByDays.issueId]);
    const late = await redeem(holder.token, issue.code);
    expect(late).toMatchObject({ status: 409, body: { code: 'ISSUE_EXPIRED' } });
    expect((await t.sql.query('SELECT redeemed_at FROM coupon_issues WHERE id = $1', [issue.issueId])).rows[0].redeemed_at).toBeNull();
    expect((await t.http('GET', '/users/me/coupons?status=LOST', { token: holder.token })).status).toBe(400);
  });

  it('an expiry removed by an admin while a redemption is being decided: the redemption is decided again and succeeds (not a 500)', async () => {
    const coupon = await createCoupon({ validDays: 30 });
    const [holder] = await t.users(1);
    const [issue] = await issueTo(coupon.id, [holder]);
    await t.sql.query(`UPDATE coupons SET redeem_until = now() - interval '1 minute' WHERE id = $1`, [coupon.id]); // expired
    const db = t.app.get(DataSource);
    const query = db.query.bind(db);
    let moved = false;
    // the admin's change lands between the redemption's decision (expired) and its read of the issue
    const spy = jest.spyOn(db, 'query').mockImplementation(async (sql: string, params?: unknown[]) => {
      const result = await query(sql, params);
      if (!moved && sql.includes('redeemed AS (')) {
        moved = true;
        await t.sql.query(`UPDATE coupons SET redeem_until = NULL WHERE id = $1`, [coupon.id]);
      }
      return result;
    });
    try {
      const answer = await redeem(holder.token, issue.code, 'order-after-patch');
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ issueId: issue.issueId, status: 'REDEEMED', expiresAt: expect.any(String) });
    } finally {
      spy.mockRestore();
    }
    expect(moved).toBe(true);
  });
});
