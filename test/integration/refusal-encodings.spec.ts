import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { decideBatch } from '../../src/issuance/issuable';
import { IssueWriter } from '../../src/issuance/issue-writer';
import type { Refusal } from '../../src/issuance/refusal';
import { ReservationRebuild } from '../../src/issuance/reservation/reservation-rebuild';
import { loadReservationScripts } from '../../src/issuance/reservation/reservation-scripts';
import { ReservationStore } from '../../src/issuance/reservation/reservation.store';
import { TEST_REDIS_URL } from '../setup/test-env';
import { bareUsers, testDataSource } from '../support/test-data-source';

/**
 * "Open", "held" and "sold out" are decided in three encodings: TypeScript (`decideBatch`, the
 * pessimistic strategy), Lua (`reserve.lua`, redis and queue) and SQL (the writer's statement, the
 * last guard of all three). The same cases go through each, and each must answer with the same
 * refusal. SQL has no separate stock test: its CHECK on the counter refuses the row instead.
 */
type Answer = 'GRANTED' | Refusal;

interface Case {
  name: string;
  status?: 'ACTIVE' | 'PAUSED' | 'ENDED';
  /** Seconds from now; null: no bound. */
  startsIn?: number | null;
  endsIn?: number | null;
  total?: number;
  /** Units already held by other users. */
  taken?: number;
  held?: boolean;
  expect: Answer;
}

const CASES: Case[] = [
  { name: 'open, stock left', expect: 'GRANTED' },
  { name: 'open within its window', startsIn: -60, endsIn: 60, expect: 'GRANTED' },
  { name: 'the last unit', total: 2, taken: 1, expect: 'GRANTED' },
  { name: 'sold out', total: 2, taken: 2, expect: 'SOLD_OUT' },
  { name: 'paused', status: 'PAUSED', expect: 'NOT_OPEN' },
  { name: 'ended', status: 'ENDED', expect: 'NOT_OPEN' },
  { name: 'not started yet', startsIn: 60, expect: 'NOT_OPEN' },
  { name: 'past its end', startsIn: -120, endsIn: -60, expect: 'NOT_OPEN' },
  { name: 'paused and sold out: closed comes first', status: 'PAUSED', total: 1, taken: 1, expect: 'NOT_OPEN' },
  { name: 'held', held: true, expect: 'ALREADY_ISSUED' },
  { name: 'held, sold out', held: true, total: 1, taken: 0, expect: 'ALREADY_ISSUED' },
  { name: 'held, paused: held comes first', held: true, status: 'PAUSED', expect: 'ALREADY_ISSUED' },
];

describe('one refusal vocabulary: the same cases through TypeScript, Lua and SQL', () => {
  let db: DataSource;
  let redis: Redis;
  let reservations: ReservationStore;
  let rebuilder: ReservationRebuild;
  let writer: IssueWriter;
  let users: number[];

  beforeAll(async () => {
    db = await testDataSource();
    redis = new Redis(TEST_REDIS_URL);
    const scripts = loadReservationScripts(redis);
    rebuilder = new ReservationRebuild(redis, scripts, db);
    reservations = new ReservationStore(redis, scripts, rebuilder);
    writer = new IssueWriter(db);
    users = await bareUsers(db, 'refusal', 4);
  });
  afterAll(async () => {
    redis?.disconnect();
    await db?.destroy();
  });

  /** A coupon in the case's state: the asking user is users[0], other holders the rest. */
  async function couponFor(c: Case): Promise<number> {
    const at = (seconds: number | null | undefined) => (seconds === undefined || seconds === null ? null : new Date(Date.now() + seconds * 1000));
    const holders = [...(c.held ? [users[0]] : []), ...users.slice(1, 1 + (c.taken ?? 0))];
    const total = c.total ?? 10;
    const [{ id }] = await db.query<{ id: number }[]>(
      `INSERT INTO coupons (name, total_quantity, issued_quantity, status, starts_at, ends_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
      [`refusal ${c.name}`, Math.max(total, holders.length), holders.length, c.status ?? 'ACTIVE', at(c.startsIn), at(c.endsIn)],
    );
    if (holders.length) {
      await db.query(`INSERT INTO coupon_issues (coupon_id, user_id, code) SELECT $1, u, md5(random()::text) FROM unnest($2::int[]) u`, [id, holders]);
    }
    return Number(id);
  }

  const stateOf = async (id: number) => {
    const [row] = await db.query(`SELECT status, starts_at, ends_at, total_quantity, issued_quantity FROM coupons WHERE id = $1`, [id]);
    const held = await db.query<{ user_id: number }[]>(`SELECT user_id FROM coupon_issues WHERE coupon_id = $1`, [id]);
    return { row, held: new Set(held.map((h) => Number(h.user_id))) };
  };

  const encodings: Record<string, (couponId: number, userId: number) => Promise<Answer>> = {
    typescript: async (couponId, userId) => {
      const { row, held } = await stateOf(couponId);
      return decideBatch(row, [userId], held)[0];
    },
    lua: async (couponId, userId) => {
      await rebuilder.rebuild(couponId, 'replace');
      const decision = await reservations.reserve(couponId, userId);
      return decision === 'GRANTED' || decision === 'REVIVED' ? 'GRANTED' : decision;
    },
    sql: async (couponId, userId) => {
      const [result] = await writer.write(couponId, [userId]);
      return result.kind === 'issued' ? 'GRANTED' : result.refusal;
    },
  };

  describe.each(Object.keys(encodings))('%s', (encoding) => {
    it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_, c) => {
      const couponId = await couponFor(c);
      expect(await encodings[encoding](couponId, users[0])).toBe(c.expect);
    });
  });

  it('a coupon that does not exist is COUPON_NOT_FOUND wherever it is decided', async () => {
    const missing = 2_000_000_000;
    expect(decideBatch(undefined, [users[0]], new Set())).toEqual(['COUPON_NOT_FOUND']);
    expect(await writer.write(missing, [users[0]])).toEqual([{ kind: 'refused', refusal: 'COUPON_NOT_FOUND' }]);
    await expect(reservations.reserve(missing, users[0])).rejects.toMatchObject({ code: 'COUPON_NOT_FOUND' });
  });
});
