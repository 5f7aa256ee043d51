import { DataSource } from 'typeorm';
import { IssueWriter } from '../../src/issuance/issue-writer';
import { bareUsers, testDataSource } from '../support/test-data-source';

/**
 * Two processes can write the same users to one coupon at once: with `redis`, a user whose two
 * requests land on two API processes has one reserved write and one confirming write, and each
 * joins its own process's batch. The batches must take the rows' locks in one order, or two of
 * them holding one row each and waiting for the other's is a deadlock, and a 500 for every
 * request in the batch PostgreSQL chose to abort.
 */
describe('IssueWriter: overlapping batches from two writers', () => {
  let db: DataSource;
  let writer: IssueWriter;
  let users: number[];

  beforeAll(async () => {
    db = await testDataSource({ statementTimeoutMs: 20_000 });
    writer = new IssueWriter(db);
    users = await bareUsers(db, 'writer', 400);
  });
  afterAll(async () => {
    await db?.destroy();
  });

  it('write the same users in opposite orders, and neither fails', async () => {
    for (let round = 0; round < 10; round++) {
      const [{ id }] = await db.query<{ id: number }[]>(`INSERT INTO coupons (name, total_quantity) VALUES ($1, $2) RETURNING id`, [
        `writer round ${round}`,
        users.length,
      ]);
      const couponId = Number(id);
      // shared users interleaved with each writer's own, so each batch holds rows the other wants
      const forward = users.filter((_, i) => i % 3 !== 2);
      const backward = users.filter((_, i) => i % 3 !== 1).reverse();
      const [a, b] = await Promise.all([writer.write(couponId, forward), writer.write(couponId, backward)]);

      const issuedBy = (results: typeof a) => results.filter((r) => r.kind === 'issued').length;
      expect([...a, ...b].every((r) => r.kind === 'issued' || r.refusal === 'ALREADY_ISSUED')).toBe(true);
      expect(issuedBy(a) + issuedBy(b)).toBe(users.length);
      const [row] = await db.query<{ counter: number; rows: string; holders: string }[]>(
        `SELECT c.issued_quantity AS counter, count(i.id) AS rows, count(DISTINCT i.user_id) AS holders
           FROM coupons c LEFT JOIN coupon_issues i ON i.coupon_id = c.id WHERE c.id = $1 GROUP BY c.id`,
        [couponId],
      );
      expect({ counter: Number(row.counter), rows: Number(row.rows), holders: Number(row.holders) }).toEqual({
        counter: users.length,
        rows: users.length,
        holders: users.length,
      });
    }
  });
});

describe('IssueWriter: a batch split user by user (over the total) reports a failure to that user alone', () => {
  let db: DataSource;
  let writer: IssueWriter;
  let users: number[];

  beforeAll(async () => {
    db = await testDataSource({ statementTimeoutMs: 20_000 });
    writer = new IssueWriter(db);
    users = await bareUsers(db, 'split', 4);
  });
  afterAll(async () => {
    await db?.query('DROP TRIGGER IF EXISTS refuse_one ON coupon_issues; DROP FUNCTION IF EXISTS refuse_one();').catch(() => undefined);
    await db?.destroy();
  });

  it("one user's write failing does not fail those written before it (who would give back a unit PostgreSQL holds)", async () => {
    const [{ id }] = await db.query<{ id: number }[]>(`INSERT INTO coupons (name, total_quantity) VALUES ('split', 3) RETURNING id`);
    const couponId = Number(id);
    const [opener, first, failing, last] = users;
    // fails one user's insert, and only once the coupon has two issued: not in the batch's own
    // statement (it sees one), which then passes the total and is written user by user
    await db.query(`
      CREATE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF (SELECT issued_quantity FROM coupons WHERE id = NEW.coupon_id) >= 2 THEN RAISE EXCEPTION 'refused by test'; END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER refuse_one BEFORE INSERT ON coupon_issues FOR EACH ROW WHEN (NEW.coupon_id = ${couponId} AND NEW.user_id = ${failing}) EXECUTE FUNCTION refuse_one();`);
    const batcher = writer.batcher({ maxBatch: 10, maxQueued: 10 });
    // the opener's write is in flight while the three arrive: they go together into the next one
    const all = [opener, first, failing, last].map((userId) => batcher.submit(couponId, { userId }));
    const outcomes = await Promise.allSettled(all);
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value.kind : 'failed'))).toEqual(['issued', 'issued', 'failed', 'issued']);
    const rows = await db.query<{ user_id: number }[]>('SELECT user_id FROM coupon_issues WHERE coupon_id = $1', [couponId]);
    expect(rows.map((r) => Number(r.user_id)).sort((x, y) => x - y)).toEqual([opener, first, last].sort((x, y) => x - y));
  });
});
