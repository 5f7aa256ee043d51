import { DataSource } from 'typeorm';
import { IssueWriter } from '../../src/issuance/issue-writer';
import { startTestApp, TestApp } from '../support/test-app';

interface FeedEvent {
  id: number;
  type: string;
  couponId: number;
  userId: number;
  issueId: number;
  code: string;
  orderRef: string | null;
}

/** A consumer of GET /events: follows nextAfter from where it starts, keeps what it is given. */
class Consumer {
  readonly seen: FeedEvent[] = [];
  constructor(
    private readonly t: TestApp,
    private readonly token: string,
    public after = 0,
  ) {}

  async poll(limit = 50): Promise<FeedEvent[]> {
    const page = await this.t.http('GET', `/events?after=${this.after}&limit=${limit}`, { token: this.token });
    expect(page.status).toBe(200);
    this.seen.push(...page.body.items);
    this.after = page.body.nextAfter;
    return page.body.items;
  }

  /** Polls until a poll brings nothing. */
  async catchUp(): Promise<void> {
    while ((await this.poll(1000)).length);
  }
}

describe('the event feed (GET /events)', () => {
  let t: TestApp;
  let admin: string;
  beforeAll(async () => {
    t = await startTestApp('redis');
    admin = await t.adminToken();
  });
  afterAll(() => t.close());

  const latest = async () => {
    const consumer = new Consumer(t, admin);
    await consumer.catchUp();
    return consumer.after;
  };

  it('an event whose transaction commits late comes after those handed out meanwhile: both once, and nothing held back by the open transaction', async () => {
    const id = await t.createCoupon(admin, 5, 'late commit');
    const next = await t.createCoupon(admin, 5, 'committed first'); // another coupon: its row is not the one held
    const [early, late] = await t.users(2);
    const ours = (e: FeedEvent) => e.couponId === id || e.couponId === next;
    const consumer = new Consumer(t, admin, await latest());
    const runner = t.app.get(DataSource).createQueryRunner();
    await runner.startTransaction();
    try {
      // a write whose event takes its row id now, and commits later (a slow transaction)
      await t.app.get(IssueWriter).write(id, [early.userId], { tx: runner.manager });
      expect((await t.http('POST', `/coupons/${next}/issue`, { token: late.token })).status).toBe(201);
      await consumer.catchUp();
      // the committed one is handed out at once, though a transaction older than it is still open
      expect(consumer.seen.filter(ours).map((e) => e.userId)).toEqual([late.userId]);
      await runner.commitTransaction();
    } finally {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      await runner.release();
    }
    await consumer.catchUp();
    const mine = consumer.seen.filter(ours);
    expect(mine.map((e) => [e.type, e.userId])).toEqual([
      ['issue.issued', late.userId],
      ['issue.issued', early.userId],
    ]);
    expect(mine[0].id).toBeLessThan(mine[1].id);
  });

  it('two APIs under a burst of issues, give-backs, redemptions and revocations, a consumer polling all along: each change once', async () => {
    const other = await startTestApp('redis');
    const start = await latest();
    const consumer = new Consumer(t, admin, start);
    let bursting = true;
    const polling = (async () => {
      while (bursting) await consumer.poll();
    })();
    try {
      const id = await t.createCoupon(admin, 150, 'event burst');
      const users = await t.users(300);
      const answers = await Promise.all(users.map((u, i) => (i % 2 ? other : t).http('POST', `/coupons/${id}/issue`, { token: u.token })));
      const holders = users.filter((_, i) => answers[i].status === 201).map((u, i) => ({ ...u, issue: answers.filter((a) => a.status === 201)[i].body }));
      expect(holders).toHaveLength(150);
      await Promise.all(
        holders.slice(0, 90).map((h, i) => {
          const api = i % 2 ? other : t;
          if (i % 3 === 0) return api.http('DELETE', `/coupons/${id}/issue`, { token: h.token });
          if (i % 3 === 1) return api.http('POST', '/issues/redeem', { token: h.token, body: { code: h.issue.code, orderRef: `order-${i}` } });
          return api.http('DELETE', `/coupons/${id}/issues/${h.issue.issueId}`, { token: admin });
        }),
      );
      // the units given back go to whoever asks next
      await Promise.all(users.slice(0, 100).map((u, i) => (i % 2 ? t : other).http('POST', `/coupons/${id}/issue`, { token: u.token })));
    } finally {
      bursting = false;
      await polling;
      await other.close();
    }
    await consumer.catchUp();

    const ids = consumer.seen.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length); // each once
    expect(ids).toEqual([...ids].sort((a, b) => a - b)); // in the feed's order
    // what the feed gave = every event written since the consumer started, and each = a change
    const { rows: written } = await t.sql.query(`SELECT id FROM coupon_events WHERE position > $1`, [start]);
    expect(consumer.seen).toHaveLength(written.length);
    const { rows: unplaced } = await t.sql.query(`SELECT count(*)::int AS n FROM coupon_events WHERE position IS NULL`);
    expect(unplaced[0].n).toBe(0);
    const couponId = consumer.seen.find((e) => e.type === 'issue.issued')!.couponId;
    const of = (type: string) =>
      consumer.seen
        .filter((e) => e.couponId === couponId && e.type === type)
        .map((e) => e.issueId)
        .sort((a, b) => a - b);
    const sorted = (rows: { id: number }[]) => rows.map((r) => Number(r.id)).sort((a, b) => a - b);
    const rowsNow = (await t.sql.query(`SELECT id FROM coupon_issues WHERE coupon_id = $1`, [couponId])).rows;
    const cancelled = (reason: string) =>
      t.sql.query(`SELECT issue_id AS id FROM coupon_issue_cancellations WHERE coupon_id = $1 AND reason = $2`, [couponId, reason]);
    const givenBack = sorted((await cancelled('GIVEN_BACK')).rows);
    const revoked = sorted((await cancelled('REVOKED')).rows);
    expect(of('issue.issued')).toEqual(sorted([...rowsNow, ...givenBack.map((id) => ({ id })), ...revoked.map((id) => ({ id }))]));
    expect(of('issue.given_back')).toEqual(givenBack);
    expect(of('issue.revoked')).toEqual(revoked);
    const redeemed = (await t.sql.query(`SELECT id FROM coupon_issues WHERE coupon_id = $1 AND redeemed_at IS NOT NULL`, [couponId])).rows;
    expect(of('issue.redeemed')).toEqual(sorted(redeemed));
    expect(givenBack.length + revoked.length + redeemed.length).toBe(90);
  });
});
