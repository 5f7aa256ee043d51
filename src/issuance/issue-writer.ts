import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { unavailable } from '../common/errors/domain.error';
import { ItemResult, KeyedBatcher } from '../common/keyed-batcher';
import { ADVISORY_LOCK } from '../database/advisory-locks';
import { PgCode, pgCode, pgConstraint } from '../database/postgres-errors';
import { PreparedStatement } from '../database/prepared-statement';
import { newIssueCodes } from './issue-code';
import { expiresAtSql, IssueRow, IssueView, toIssueView } from './issue.view';
import type { Refusal } from './refusal';

/**
 * What PostgreSQL made of one user's write. Refusals: ALREADY_ISSUED (the user already had a row:
 * a no-op), NOT_OPEN (paused, ended or outside its window), SOLD_OUT (the CHECK on
 * issued_quantity <= total_quantity), COUPON_NOT_FOUND (deleted), USER_GONE (the user was deleted
 * after the request was accepted).
 */
export type WriteResult = { kind: 'issued'; issue: IssueView } | { kind: 'refused'; refusal: Refusal };

/** One user's write: `requestStamp`, the accepted request it honours (`queue`: reserve.lua's stamp, ms). */
export interface WriteRequest {
  userId: number;
  requestStamp?: number;
}
const refused = (refusal: Refusal): WriteResult => ({ kind: 'refused', refusal });

/**
 * One statement for a whole batch: checks the coupon is open, inserts every row (ON CONFLICT:
 * a user who already holds one is a no-op, not an aborted batch), and moves the counter by exactly
 * the rows inserted. The CHECK (issued_quantity <= total_quantity) makes overselling impossible
 * whatever was decided upstream, and records each issue's event (coupon_events) in the same
 * statement. `open` is null when the coupon does not exist. When the coupon
 * is closed it also says which of the users hold one already: a holder is told ALREADY_ISSUED
 * before NOT_OPEN, as in decideBatch and reserve.lua (and a redelivered job of a coupon paused
 * since then settles its holders as issued, instead of giving their units back).
 * The rows lock (shared; ADVISORY_LOCK.rowsOfCoupon) is taken before any row is inserted and held
 * until the commit: a rebuild of the coupon's Redis state waits for this write, never reads around it.
 * `$4` (accepted): the requests were decided already, when they were accepted (`queue`'s 202): the
 * window and the status are not asked again, since a coupon that ended or paused after a 202
 * must still honour it. The total is still the CHECK's.
 * `$5`: each request's stamp (`queue`; null otherwise), kept on its row. A request whose row was
 * given back or revoked already (its cancellation carries the stamp) is not written again: a job
 * redelivered after the give-back, even with Redis' memory of it lost. The user is then reported
 * as holding (a no-op, as for a row already there) and their request settles with nothing.
 */
const WRITE_ISSUES = new PreparedStatement(
  'write-issues',
  `
  WITH coupon AS (
    SELECT ($4::boolean OR (status = 'ACTIVE' AND (starts_at IS NULL OR starts_at <= now()) AND (ends_at IS NULL OR ends_at > now()))) AS open, valid_days, redeem_until
      FROM coupons, (SELECT pg_advisory_xact_lock_shared(${ADVISORY_LOCK.rowsOfCoupon}, $1)) AS rows_lock
     WHERE id = $1
  ), issued AS (
    INSERT INTO coupon_issues (coupon_id, user_id, code, request_stamp)
    SELECT $1, g.user_id, g.code, g.stamp FROM unnest($2::int[], $3::text[], $5::bigint[]) WITH ORDINALITY AS g(user_id, code, stamp, n)
     WHERE (SELECT open FROM coupon)
       AND NOT EXISTS (SELECT 1 FROM coupon_issue_cancellations c WHERE c.coupon_id = $1 AND c.user_id = g.user_id AND c.request_stamp = g.stamp)
     ORDER BY g.n
    ON CONFLICT (coupon_id, user_id) DO NOTHING
    RETURNING id, coupon_id, user_id, code, issued_at
  ), recorded AS (
    INSERT INTO coupon_events (type, coupon_id, user_id, issue_id, code) SELECT 'issue.issued', coupon_id, user_id, id, code FROM issued
  ), counted AS (
    UPDATE coupons SET issued_quantity = issued_quantity + (SELECT count(*) FROM issued), updated_at = now()
     WHERE id = $1 AND EXISTS (SELECT 1 FROM issued)
  ), held_while_closed AS (
    SELECT user_id FROM coupon_issues WHERE coupon_id = $1 AND user_id = ANY($2::int[]) AND NOT (SELECT open FROM coupon)
  )
  SELECT (SELECT open FROM coupon) AS open, (SELECT array_agg(user_id) FROM held_while_closed) AS held_while_closed,
         i.id, i.coupon_id, i.user_id, i.code, i.issued_at, NULL::timestamptz AS redeemed_at, ${expiresAtSql('i', 'c')} AS expires_at
    FROM (SELECT 1) AS one LEFT JOIN issued i ON true LEFT JOIN coupon c ON true`,
);

type WriteRow = { open: boolean | null; held_while_closed: number[] | null } & Partial<IssueRow>;

const isOverTotal = (error: unknown) => pgCode(error) === PgCode.CHECK_VIOLATION && pgConstraint(error) === 'coupons_issued_within_total';

const isUserGone = (error: unknown) => pgCode(error) === PgCode.FOREIGN_KEY_VIOLATION && pgConstraint(error) === 'coupon_issues_user_fk';

/** Writes decided issues to PostgreSQL, many per statement. */
@Injectable()
export class IssueWriter {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * writeEach() behind a per-coupon group commit: requests of one coupon that arrive while its
   * write is in flight go together into the next write. Past `maxQueued` waiting, the answer is 503.
   */
  batcher(limits: { maxBatch: number; maxQueued: number; accepted?: boolean }): KeyedBatcher<number, WriteRequest, WriteResult> {
    const accepted = limits.accepted ?? false;
    return new KeyedBatcher<number, WriteRequest, WriteResult>((couponId, requests) => this.writeEach(couponId, requests, accepted), {
      ...limits,
      overflow: () => unavailable('too many writes waiting for this coupon'),
    });
  }

  /**
   * Writes the batch in one statement, as part of the caller's transaction `tx` (a failure aborts
   * it whole); without `tx`, as writeEach, failing whole if any user's write failed.
   */
  async write(couponId: number, userIds: number[], { tx, accepted = false }: { tx?: EntityManager; accepted?: boolean } = {}): Promise<WriteResult[]> {
    const requests = userIds.map((userId) => ({ userId }));
    if (tx) return this.writeBatch(tx, couponId, requests, accepted);
    return (await this.writeEach(couponId, requests, accepted)).map((item) => {
      if (!item.ok) throw item.error;
      return item.value;
    });
  }

  /**
   * Writes the batch in one statement (atomic: all or nothing). If the batch as a whole would pass
   * the total, which only happens when upstream state ran ahead of PostgreSQL (e.g. Redis rebuilt
   * while writes were in flight), each user is written alone so that those that fit still get
   * theirs; then a failure is that user's alone, never reported to another whose row committed
   * (who would give back a unit PostgreSQL holds). `accepted`: the requests were decided when
   * accepted; the coupon's window and status are not asked again.
   */
  async writeEach(couponId: number, requests: WriteRequest[], accepted: boolean): Promise<ItemResult<WriteResult>[]> {
    const ok = (value: WriteResult): ItemResult<WriteResult> => ({ ok: true, value });
    try {
      return (await this.writeBatch(this.db.manager, couponId, requests, accepted)).map(ok);
    } catch (error) {
      if (isUserGone(error)) return (await this.writeWithoutGoneUsers(couponId, requests, accepted)).map(ok);
      if (!isOverTotal(error)) throw error; // one statement: nothing of it committed
    }
    const results: ItemResult<WriteResult>[] = [];
    for (const request of requests) {
      try {
        results.push(ok((await this.writeBatch(this.db.manager, couponId, [request], accepted))[0]));
      } catch (error) {
        results.push(isOverTotal(error) ? ok(refused('SOLD_OUT')) : { ok: false, error: error as Error });
      }
    }
    return results;
  }

  /**
   * A user deleted after their request was accepted fails the foreign key, and with it the whole
   * batch (and every retry of it, and every request that shares it). Rare, so the statement does
   * not check users itself (that cost a fifth of the drain rate): the batch is written again
   * without them, and they are refused.
   */
  private async writeWithoutGoneUsers(couponId: number, requests: WriteRequest[], accepted: boolean): Promise<WriteResult[]> {
    const rows = await this.db.query<{ id: number }[]>('SELECT id FROM users WHERE id = ANY($1::int[])', [requests.map((r) => r.userId)]);
    const existing = new Set(rows.map((r) => Number(r.id)));
    const present = requests.filter((r) => existing.has(r.userId));
    const written = present.length ? await this.writeEach(couponId, present, accepted) : [];
    let next = 0;
    return requests.map(({ userId }): WriteResult => {
      if (!existing.has(userId)) return refused('USER_GONE');
      const item = written[next++];
      if (!item.ok) throw item.error;
      return item.value;
    });
  }

  private async writeBatch(runner: EntityManager, couponId: number, requests: WriteRequest[], accepted: boolean): Promise<WriteResult[]> {
    // Rows are inserted in user order, whoever writes: two batches sharing users (one user's two
    // requests on two processes) then wait for each other instead of each holding a row the other
    // needs, which PostgreSQL would break as a deadlock by aborting one of the batches.
    const stampOf = new Map<number, number | null>();
    for (const r of requests) if (!stampOf.has(r.userId)) stampOf.set(r.userId, r.requestStamp ?? null);
    const ordered = [...stampOf.keys()].sort((a, b) => a - b);
    const stamps = ordered.map((userId) => stampOf.get(userId));
    const rows = await WRITE_ISSUES.run<WriteRow>(runner, [couponId, ordered, newIssueCodes(ordered.length), accepted, stamps]);
    const open = rows[0]?.open ?? null;
    const heldWhileClosed = new Set((rows[0]?.held_while_closed ?? []).map(Number));
    const issued = new Map<number, IssueView>();
    for (const row of rows) if (row.id !== null && row.id !== undefined) issued.set(row.user_id!, toIssueView(row as IssueRow));
    return requests.map(({ userId }): WriteResult => {
      const issue = issued.get(userId);
      // the same user twice in one batch (two requests at once): one issue, and one 'held'
      issued.delete(userId);
      if (issue) return { kind: 'issued', issue };
      if (open === null) return refused('COUPON_NOT_FOUND');
      if (!open && !heldWhileClosed.has(userId)) return refused('NOT_OPEN');
      return refused('ALREADY_ISSUED');
    });
  }
}
