import { IssuanceStrategyName } from '../../src/config/issuance.config';
import type { LoadTestUser } from '../../load/load-test-users';
import { until, untilSettled } from '../support/burst';
import { couponFacts, expectCouponInvariants } from '../support/invariants';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * The in-process sold-out flag, on two instances of the service sharing one database (and one
 * Redis). Instance A keeps its flags as long as it likes (SOLD_OUT_FLAG_MS of 10 s, longer than the 5 s it waits), so
 * only the stock signal can drop them: when stock comes back through instance B (a raised total,
 * a give-back), A must hear it and serve again, and the unit must end with exactly one holder.
 */
const STRATEGIES: IssuanceStrategyName[] = ['pessimistic', 'redis', 'queue'];

describe.each(STRATEGIES)('sold-out flag: %s', (strategy) => {
  let a: TestApp;
  let b: TestApp;
  /** With the default-like limit of one issue request per user per second. */
  let limited: TestApp;
  let admin: string;

  beforeAll(async () => {
    a = await startTestApp(strategy, { RATE_LIMIT_ISSUE_PER_SECOND: '0', SOLD_OUT_FLAG_MS: '10000' });
    b = await startTestApp(strategy, { RATE_LIMIT_ISSUE_PER_SECOND: '0' });
    limited = await startTestApp(strategy, { RATE_LIMIT_ISSUE_PER_SECOND: '1', SOLD_OUT_FLAG_MS: '10000' });
    admin = await a.adminToken();
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await limited?.close();
  });

  /** One request; a 202 counts once it settled (ISSUED as 201, REJECTED as 409 with its reason). */
  async function ask(t: TestApp, id: number, user: LoadTestUser): Promise<{ status: number; code?: string }> {
    const res = await t.http('POST', `/coupons/${id}/issue`, { token: user.token });
    if (res.status === 201) return { status: 201 };
    if (res.status !== 202) return { status: res.status, code: res.body?.code };
    const settled = await untilSettled(t.http, id, user.token);
    return settled.status === 'ISSUED' ? { status: 201 } : { status: 409, code: settled.reason };
  }

  /** A coupon of `total`, sold to `holders` through `t` (A unless said), with t's flag for it standing. */
  async function soldOutOnA(total: number, t = a) {
    const id = await t.createCoupon(admin, total, `flag ${strategy}`);
    const [holders, crowd] = [await t.users(total), await t.users(5)];
    for (const h of holders) expect(await ask(t, id, h)).toEqual({ status: 201 });
    const answeredBefore = await flagAnswers(t);
    // the first SOLD_OUT sets the flag (its holders are read after the answer): ask until it answers
    // (each time after the rate limit's second, where there is one)
    await until(
      async () => {
        expect(await ask(t, id, crowd[0])).toMatchObject({ status: 409, code: 'SOLD_OUT' });
        return (await flagAnswers(t)) > answeredBefore ? true : undefined;
      },
      { timeoutMs: 10_000, everyMs: t === limited ? 1000 : 20, what: `coupon ${id} to be answered from the sold-out flag` },
    );
    return { id, holders, crowd };
  }

  const flagAnswers = async (t = a) => Number(/coupon_issue_sold_out_flag_answers_total (\d+)/.exec((await t.http('GET', '/metrics')).body)?.[1] ?? 0);

  /** Asks through A with the same newcomer until served; every answer before is SOLD_OUT. */
  const untilServedOnA = (id: number, user: LoadTestUser) =>
    until(
      async () => {
        const answer = await ask(a, id, user);
        if (answer.status === 201) return true;
        expect(answer).toMatchObject({ status: 409, code: 'SOLD_OUT' });
        return undefined;
      },
      { timeoutMs: 5_000, everyMs: 10, what: `A to serve coupon ${id} again` },
    );

  it('answers the crowd SOLD_OUT from the flag, while a holder still hears ALREADY_ISSUED', async () => {
    const { id, holders, crowd } = await soldOutOnA(2);
    const answered = await flagAnswers();
    for (const user of crowd) expect(await ask(a, id, user)).toMatchObject({ status: 409, code: 'SOLD_OUT' });
    expect(await flagAnswers()).toBe(answered + crowd.length);
    for (const h of holders) expect(await ask(a, id, h)).toMatchObject({ status: 409, code: 'ALREADY_ISSUED' });
    expectCouponInvariants(await couponFacts(a.sql, id));
  });

  it('answers from the flag before the rate limit: a user asking again and again hears SOLD_OUT, not 429', async () => {
    const { id, crowd } = await soldOutOnA(1, limited);
    const answers = [];
    for (let i = 0; i < 10; i++) answers.push(await ask(limited, id, crowd[1]));
    expect(answers).toEqual(Array(10).fill({ status: 409, code: 'SOLD_OUT' }));
    // a request with an Idempotency-Key passes the guard and is validated, then hears the flag too:
    // the rate limit is counted by the strategy, which a flagged coupon's requests never reach
    const keyed = await Promise.all(
      [1, 2, 3].map((n) => limited.http('POST', `/coupons/${id}/issue`, { token: crowd[2].token, headers: { 'idempotency-key': `k${n}` } })),
    );
    expect(keyed.map((r) => [r.status, r.body.code])).toEqual(Array(3).fill([409, 'SOLD_OUT']));
  });

  it('a total raised through the other instance: A hears it, drops the flag, and sells the new unit once', async () => {
    const { id, crowd } = await soldOutOnA(2);
    expect((await b.http('PATCH', `/coupons/${id}`, { token: admin, body: { totalQuantity: 3 } })).status).toBe(200);
    await untilServedOnA(id, crowd[0]);
    for (const user of crowd.slice(1)) expect(await ask(a, id, user)).toMatchObject({ status: 409, code: 'SOLD_OUT' });
    const facts = await couponFacts(a.sql, id);
    expectCouponInvariants(facts);
    expect(facts.rows).toBe(3);
    expect(facts.holders.has(crowd[0].userId)).toBe(true);
  });

  it('a unit given back through the other instance: A hears it and hands the unit out once more, never twice', async () => {
    const { id, holders, crowd } = await soldOutOnA(2);
    expect((await b.http('DELETE', `/coupons/${id}/issue`, { token: holders[0].token })).status).toBe(204);
    await untilServedOnA(id, crowd[0]);
    for (const user of [...crowd.slice(1), holders[0]]) expect(await ask(a, id, user)).toMatchObject({ status: 409, code: 'SOLD_OUT' });
    const facts = await couponFacts(a.sql, id);
    expectCouponInvariants(facts);
    expect(facts.rows).toBe(2);
    expect(facts.holders).toEqual(new Set([holders[1].userId, crowd[0].userId]));
  });
});
