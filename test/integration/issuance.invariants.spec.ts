import { IssuanceStrategyName } from '../../src/config/issuance.config';
import { fire, untilSettled } from '../support/burst';
import { countStatuses, expectHolders } from '../support/invariants';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * The one invariant suite every strategy must pass: hundreds of truly concurrent HTTP requests,
 * then the truth read in SQL. rows <= total, counter = rows, nobody holds two, every user told
 * yes holds a coupon and nobody else does.
 */
const STRATEGIES: IssuanceStrategyName[] = ['pessimistic', 'redis', 'queue'];

describe.each(STRATEGIES)('issuance invariants under concurrency: %s', (strategy) => {
  let t: TestApp;
  let admin: string;

  beforeAll(async () => {
    t = await startTestApp(strategy);
    admin = await t.adminToken();
  });
  afterAll(() => t.close());

  async function createCoupon(totalQuantity: number): Promise<number> {
    const res = await t.http('POST', '/coupons', { token: admin, body: { name: `invariants ${strategy}`, totalQuantity } });
    expect(res.status).toBe(201);
    return res.body.id;
  }

  /**
   * Fires every request at once and waits for all answers. An accepted request (202, queue) is then
   * polled until it settles, and counts as a yes (status 201 here) only if it ended ISSUED.
   */
  async function burst(couponId: number, users: { userId: number; token: string }[]) {
    const results = await fire(t.http, couponId, users);
    for (const r of results.filter((x) => x.status === 202)) {
      expect(r.body).toEqual({ status: 'PENDING', couponId });
      const settled = await untilSettled(t.http, couponId, r.token);
      expect(settled.status).toBe('ISSUED'); // a 202 is a promise: nothing here may end REJECTED
      Object.assign(r, { status: 201, body: settled.issue });
    }
    return results;
  }

  const expectInvariants = (couponId: number, winners: Set<number>) => expectHolders(t.sql, couponId, winners);

  it('300 distinct users at once on 100 coupons: exactly 100 issued, 200 told SOLD_OUT', async () => {
    const couponId = await createCoupon(100);
    const users = await t.users(300);
    const results = await burst(couponId, users);

    expect(countStatuses(results)).toEqual({ 201: 100, 409: 200 });
    expect(results.filter((r) => r.status === 409).every((r) => r.body.code === 'SOLD_OUT')).toBe(true);
    const winners = new Set(results.filter((r) => r.status === 201).map((r) => r.userId));
    for (const r of results.filter((x) => x.status === 201)) {
      expect(r.body).toMatchObject({ couponId, userId: r.userId, code: expect.any(String), issueId: expect.any(Number) });
    }
    const facts = await expectInvariants(couponId, winners);
    expect(facts.rows).toBe(100);
  });

  it('one user firing 50 requests at once gets exactly one coupon', async () => {
    const couponId = await createCoupon(10);
    const [user] = await t.users(1);
    const results = await burst(
      couponId,
      Array.from({ length: 50 }, () => user),
    );

    // beyond RATE_LIMIT_ISSUE_PER_SECOND the flood is cut off with 429 before reaching the strategy
    const statuses = countStatuses(results);
    expect(statuses[201]).toBe(1);
    expect(statuses[201] + (statuses[409] ?? 0) + (statuses[429] ?? 0)).toBe(50);
    expect(results.filter((r) => r.status === 409).every((r) => r.body.code === 'ALREADY_ISSUED')).toBe(true);
    expect(results.filter((r) => r.status === 429).every((r) => r.body.code === 'RATE_LIMITED')).toBe(true);
    const facts = await expectInvariants(couponId, new Set([user.userId]));
    expect(facts.rows).toBe(1);
  });

  it('150 users on 200 coupons: everyone is served (no undersell)', async () => {
    const couponId = await createCoupon(200);
    const users = await t.users(150);
    const results = await burst(couponId, users);

    expect(countStatuses(results)).toEqual({ 201: 150 });
    const facts = await expectInvariants(couponId, new Set(users.map((u) => u.userId)));
    expect(facts.rows).toBe(150);
  });

  it('200 users asking 3 times each at once on 120 coupons: 120 holders, one each', async () => {
    const couponId = await createCoupon(120);
    const users = await t.users(200);
    const results = await burst(
      couponId,
      users.flatMap((u) => [u, u, u]),
    );

    const statuses = countStatuses(results);
    expect(statuses[201]).toBe(120);
    expect(statuses[409]).toBe(600 - 120);
    const winners = new Set(results.filter((r) => r.status === 201).map((r) => r.userId));
    expect(winners.size).toBe(120);
    await expectInvariants(couponId, winners);
  });

  it('two coupons drained at the same time do not interfere', async () => {
    const [a, b] = [await createCoupon(40), await createCoupon(60)];
    const users = await t.users(100);
    const results = await Promise.all([burst(a, users), burst(b, users)]);

    expect(countStatuses(results[0])).toEqual({ 201: 40, 409: 60 });
    expect(countStatuses(results[1])).toEqual({ 201: 60, 409: 40 });
    await expectInvariants(a, new Set(results[0].filter((r) => r.status === 201).map((r) => r.userId)));
    await expectInvariants(b, new Set(results[1].filter((r) => r.status === 201).map((r) => r.userId)));
  });
});
