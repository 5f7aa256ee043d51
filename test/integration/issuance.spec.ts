import { IssuanceStrategyName } from '../../src/config/issuance.config';
import { until } from '../support/burst';
import { holdCouponRow } from '../support/row-lock';
import { startTestApp, TestApp } from '../support/test-app';

/** The routes' contract is the same for every synchronous strategy. */
const STRATEGIES: IssuanceStrategyName[] = ['pessimistic', 'redis'];

describe.each(STRATEGIES)('issuance routes (HTTP, %s)', (strategy) => {
  let t: TestApp;
  let admin: string;

  beforeAll(async () => {
    t = await startTestApp(strategy, { DB_LOCK_TIMEOUT_MS: '400' });
    admin = await t.adminToken();
  });
  afterAll(() => t.close());

  async function coupon(body: object = {}): Promise<number> {
    const res = await t.http('POST', '/coupons', { token: admin, body: { name: 'issue e2e', totalQuantity: 2, ...body } });
    expect(res.status).toBe(201);
    return res.body.id;
  }
  const issue = (id: number, token: string, headers?: Record<string, string>) => t.http('POST', `/coupons/${id}/issue`, { token, headers });
  const couponFactsRows = async (id: number) => (await t.sql.query('SELECT count(*)::int AS n FROM coupon_issues WHERE coupon_id = $1', [id])).rows[0].n;

  it('issues (201 Issue), then refuses the same user (409 ALREADY_ISSUED) and a user past the stock (409 SOLD_OUT)', async () => {
    const id = await coupon({ totalQuantity: 2 });
    const [a, b, c] = await t.users(3);
    const first = await issue(id, a.token);
    expect(first.status).toBe(201);
    expect(first.body).toEqual({
      issueId: expect.any(Number),
      couponId: id,
      userId: a.userId,
      code: expect.stringMatching(/^[\w-]{20}$/),
      issuedAt: expect.any(String),
      status: 'ISSUED',
      expiresAt: null,
      redeemedAt: null,
    });
    expect((await issue(id, a.token)).body).toMatchObject({ statusCode: 409, code: 'ALREADY_ISSUED' });
    expect((await issue(id, b.token)).status).toBe(201);
    expect((await issue(id, c.token)).body).toMatchObject({ statusCode: 409, code: 'SOLD_OUT' });
    const coupons = await t.http('GET', `/coupons/${id}`, { token: c.token });
    expect(coupons.body).toMatchObject({ issuedQuantity: 2, remainingQuantity: 0 });
  });

  it('refuses a body naming fields (userId: mass assignment) with 400 and issues nothing, to anyone', async () => {
    const id = await coupon({ totalQuantity: 2 });
    const [caller, victim] = await t.users(2);
    for (const body of [{ userId: victim.userId }, { quantity: 5 }, { couponId: id }]) {
      const res = await t.http('POST', `/coupons/${id}/issue`, { token: caller.token, body });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
    }
    expect((await t.sql.query('SELECT count(*)::int AS n FROM coupon_issues WHERE coupon_id = $1', [id])).rows[0].n).toBe(0);
    // an empty body, or none, is the normal request
    expect((await t.http('POST', `/coupons/${id}/issue`, { token: caller.token, body: {} })).status).toBe(201);
    expect((await issue(id, victim.token)).status).toBe(201);
  });

  it('answers a repeated Idempotency-Key with the first issue again (201, same code)', async () => {
    const id = await coupon();
    const [u] = await t.users(1);
    const first = await issue(id, u.token, { 'idempotency-key': 'k-1' });
    const again = await issue(id, u.token, { 'idempotency-key': 'k-1' });
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect((await issue(id, u.token)).body.code).toBe('ALREADY_ISSUED');
    expect((await issue(id, u.token, { 'idempotency-key': 'x'.repeat(300) })).status).toBe(400);
  });

  it('keeps the first answer to a key for good: after a give-back the key replays it (no new coupon), another key is another request', async () => {
    const id = await coupon({ totalQuantity: 1 });
    const [u, v] = await t.users(2);
    const first = await issue(id, u.token, { 'idempotency-key': 'first' });
    expect(first.status).toBe(201);
    expect((await t.http('DELETE', `/coupons/${id}/issue`, { token: u.token })).status).toBe(204);
    const replay = await issue(id, u.token, { 'idempotency-key': 'first' });
    expect([replay.status, replay.body]).toEqual([201, first.body]);
    expect(await couponFactsRows(id)).toBe(0); // the replay issued nothing
    // a refusal is an answer too: kept, though stock comes back later
    expect((await issue(id, v.token, { 'idempotency-key': 'v-1' })).status).toBe(201);
    const refused = await issue(id, u.token, { 'idempotency-key': 'second' });
    expect(refused.body.code).toBe('SOLD_OUT');
    expect((await t.http('DELETE', `/coupons/${id}/issue`, { token: v.token })).status).toBe(204);
    expect((await issue(id, u.token, { 'idempotency-key': 'second' })).body.code).toBe('SOLD_OUT');
    expect((await issue(id, u.token, { 'idempotency-key': 'third' })).status).toBe(201);
  });

  it('one key sent twice at once (a double click) gets one answer, twice, and one coupon', async () => {
    const id = await coupon({ totalQuantity: 5 });
    const [u] = await t.users(1);
    const both = await Promise.all([1, 2, 3].map(() => issue(id, u.token, { 'idempotency-key': 'double' })));
    expect(both.map((r) => r.status)).toEqual([201, 201, 201]);
    expect(new Set(both.map((r) => r.body.code)).size).toBe(1);
    expect(await couponFactsRows(id)).toBe(1);
  });

  it.each([
    ['paused', { status: 'PAUSED' }],
    ['ended', { status: 'ENDED' }],
    ['not started yet', { startsAt: '2099-01-01T00:00:00Z' }],
    ['past its end', { startsAt: '2000-01-01T00:00:00Z', endsAt: '2000-01-02T00:00:00Z' }],
  ])('refuses a coupon that is %s with 409 NOT_OPEN and issues nothing', async (_, patch) => {
    const id = await coupon();
    expect((await t.http('PATCH', `/coupons/${id}`, { token: admin, body: patch })).status).toBe(200);
    const [u] = await t.users(1);
    const res = await issue(id, u.token);
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('NOT_OPEN');
    expect((await t.sql.query('SELECT count(*)::int AS n FROM coupon_issues WHERE coupon_id = $1', [id])).rows[0].n).toBe(0);
  });

  it('answers 404 COUPON_NOT_FOUND for a missing coupon, 401 without a token', async () => {
    const [u] = await t.users(1);
    expect((await issue(999_999_999, u.token)).body).toMatchObject({ statusCode: 404, code: 'COUPON_NOT_FOUND' });
    expect((await t.http('POST', '/coupons/1/issue')).status).toBe(401);
  });

  it('tells the state: ISSUED with the issue, or 404 NOT_REQUESTED', async () => {
    const id = await coupon();
    const [u, v] = await t.users(2);
    const issued = await issue(id, u.token);
    expect((await t.http('GET', `/coupons/${id}/issue`, { token: u.token })).body).toEqual({ status: 'ISSUED', issue: issued.body });
    expect((await t.http('GET', `/coupons/${id}/issue`, { token: v.token })).body).toMatchObject({ statusCode: 404, code: 'NOT_REQUESTED' });
    expect((await t.http('GET', '/coupons/999999999/issue', { token: v.token })).body.code).toBe('COUPON_NOT_FOUND');
  });

  it("lists only the caller's own coupons, newest first, with paging", async () => {
    const ids = [await coupon({ name: 'mine A' }), await coupon({ name: 'mine B' }), await coupon({ name: 'mine C' })];
    const [me, other] = await t.users(2);
    for (const id of ids) expect((await issue(id, me.token)).status).toBe(201);
    expect((await issue(ids[0], other.token)).status).toBe(201);

    const page1 = await t.http('GET', '/users/me/coupons?limit=2', { token: me.token });
    expect(page1.status).toBe(200);
    expect(page1.body.items).toEqual([
      {
        issueId: expect.any(Number),
        couponId: ids[2],
        couponName: 'mine C',
        code: expect.any(String),
        issuedAt: expect.any(String),
        status: 'ISSUED',
        expiresAt: null,
        redeemedAt: null,
      },
      expect.objectContaining({ couponId: ids[1], couponName: 'mine B' }),
    ]);
    const page2 = await t.http('GET', `/users/me/coupons?limit=2&cursor=${page1.body.nextCursor}`, { token: me.token });
    expect(page2.body).toEqual({ items: [expect.objectContaining({ couponId: ids[0] })], nextCursor: null });
    const theirs = await t.http('GET', '/users/me/coupons', { token: other.token });
    expect(theirs.body.items.map((i: { couponId: number }) => i.couponId)).toEqual([ids[0]]);
    expect((await t.http('GET', '/users/me/coupons?cursor=abc', { token: me.token })).status).toBe(400);
  });

  it('gives admins the issue history and stats; users get 403; missing coupons 404', async () => {
    const id = await coupon({ totalQuantity: 5 });
    const users = await t.users(3);
    for (const u of users) await issue(id, u.token);

    const history = await t.http('GET', `/coupons/${id}/issues?limit=2`, { token: admin });
    expect(history.status).toBe(200);
    expect(history.body.items).toHaveLength(2);
    expect(history.body.items[0]).toEqual({
      issueId: expect.any(Number),
      userId: users[2].userId,
      code: expect.any(String),
      issuedAt: expect.any(String),
      status: 'ISSUED',
      redeemedAt: null,
    });
    const rest = await t.http('GET', `/coupons/${id}/issues?cursor=${history.body.nextCursor}`, { token: admin });
    expect(rest.body.items.map((i: { userId: number }) => i.userId)).toEqual([users[0].userId]);

    const stats = await t.http('GET', `/coupons/${id}/stats`, { token: admin });
    expect(stats.body).toMatchObject({
      totalQuantity: 5,
      issuedQuantity: 3,
      issuedRows: 3,
      remainingQuantity: 2,
      pending: 0,
      redeemedQuantity: 0,
      cancelledQuantity: 0,
    });
    const reconciled = await t.http('POST', `/coupons/${id}/reconcile`, { token: admin });
    expect(reconciled.status).toBe(200);
    expect(reconciled.body).toEqual(stats.body);

    for (const path of [`/coupons/${id}/issues`, `/coupons/${id}/stats`]) {
      expect((await t.http('GET', path, { token: users[0].token })).body.code).toBe('FORBIDDEN');
    }
    expect((await t.http('POST', `/coupons/${id}/reconcile`, { token: users[0].token })).status).toBe(403);
    expect((await t.http('GET', '/coupons/999999999/stats', { token: admin })).body.code).toBe('COUPON_NOT_FOUND');
    expect((await t.http('GET', '/coupons/999999999/issues', { token: admin })).body.code).toBe('COUPON_NOT_FOUND');
  });

  it('answers a fast 503 UNAVAILABLE while another session holds the coupon row, writes nothing, keeps no stock, then recovers', async () => {
    const id = await coupon({ totalQuantity: 1 });
    const [u] = await t.users(1);
    const lock = await holdCouponRow(t.sql, id);
    try {
      const blocked = await issue(id, u.token);
      expect(blocked.status).toBe(503);
      expect(blocked.body.code).toBe('UNAVAILABLE');
      expect(blocked.ms).toBeLessThan(5000); // bounded by lock_timeout, not a hang
    } finally {
      await lock.release();
    }
    expect((await t.sql.query('SELECT count(*)::int AS n FROM coupon_issues WHERE coupon_id = $1', [id])).rows[0].n).toBe(0);
    // the one unit of stock was given back: the same user gets it now
    expect((await t.http('GET', `/coupons/${id}/stats`, { token: admin })).body).toMatchObject({ issuedRows: 0, pending: 0 });
    expect((await issue(id, u.token)).status).toBe(201);
  });

  it('reports each live coupon in /metrics: issued, remaining, pending, and the Redis-vs-database stock gap', async () => {
    const id = await coupon({ totalQuantity: 5 });
    const users = await t.users(2);
    for (const u of users) expect((await issue(id, u.token)).status).toBe(201);
    const scrape = async () => String((await t.http('GET', '/metrics')).body);
    const value = (text: string, name: string) => text.match(new RegExp(`^${name}\\{coupon_id="${id}"\\} (\\S+)$`, 'm'))?.[1];
    const untilScraped = (name: string, expected: string | undefined) =>
      until(async () => (value(await scrape(), name) === expected ? true : undefined), { timeoutMs: 5000, what: `${name} = ${expected}` });
    const text = await scrape();
    expect(value(text, 'coupon_live_issued')).toBe('2');
    expect(value(text, 'coupon_live_remaining')).toBe('3');
    expect(value(text, 'coupon_live_pending')).toBe('0');
    // the pessimistic strategy keeps no Redis state, so it has no gap to report
    expect(value(text, 'coupon_live_stock_gap')).toBe(strategy === 'redis' ? '0' : undefined);
    if (strategy === 'redis') {
      // a unit taken in Redis behind PostgreSQL's back shows as a gap, and reconcile closes it
      await t.redis.connect().catch(() => undefined);
      await t.redis.hincrby(`coupon:{${id}}:meta`, 'taken', 1);
      // (a scrape reads a snapshot up to 1 s old)
      await untilScraped('coupon_live_stock_gap', '1');
      expect((await t.http('POST', `/coupons/${id}/reconcile`, { token: admin })).status).toBe(200);
      await untilScraped('coupon_live_stock_gap', '0');
    }
    // an ended coupon drops out of the per-coupon series
    expect((await t.http('PATCH', `/coupons/${id}`, { token: admin, body: { status: 'ENDED' } })).status).toBe(200);
    await untilScraped('coupon_live_issued', undefined);
  });

  it('serves liveness, readiness, and metrics with issue outcomes and pool use', async () => {
    const health = await t.http('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok', strategy, info: { database: { status: 'up' } } });
    if (strategy === 'redis') expect(health.body.info.redis).toEqual({ status: 'up' });
    expect((await t.http('GET', '/health/ready')).body).toMatchObject({ status: 'ok', strategy });
    expect((await t.http('GET', '/health/live')).body).toEqual({ status: 'ok' });
    const metrics = await t.http('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(new RegExp(`coupon_issue_requests_total\\{strategy="${strategy}",outcome="ISSUED"\\} \\d+`));
    expect(metrics.body).toMatch(new RegExp(`coupon_issue_requests_total\\{strategy="${strategy}",outcome="SOLD_OUT"\\} \\d+`));
    expect(metrics.body).toMatch(/db_pool_connections\{state="total"\} [1-9]/);
    expect(metrics.body).toMatch(/db_pool_connections\{state="waiting"\} 0/);
  });
});
