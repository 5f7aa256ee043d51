import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { couponNotFound, DomainError, unavailable } from '../common/errors/domain.error';
import { ErrorCode } from '../common/errors/error-code';
import { KeyedBatcher } from '../common/keyed-batcher';
import { PgCode, pgCode, pgConstraint } from '../database/postgres-errors';
import { alreadyIssued, notOpen, soldOut } from './issuance.errors';
import { newIssueCode } from './issue-code';
import { IssueRow, IssueView, toIssueView } from './issue.view';

/** What PostgreSQL made of one user's write. */
export type WriteResult =
  | { kind: 'issued'; issue: IssueView }
  | { kind: 'held' } // the user already had a row: the write was a no-op
  | { kind: 'closed' } // the campaign is paused, ended or outside its window
  | { kind: 'sold-out' } // the CHECK on issued_quantity <= total_quantity refused it
  | { kind: 'gone' } // the coupon was deleted
  | { kind: 'user-gone' }; // the user was deleted after the request was accepted

/**
 * One statement for a whole batch: checks the campaign is open, inserts every row (ON CONFLICT:
 * a user who already holds one is a no-op, not an aborted batch), and moves the counter by exactly
 * the rows inserted. The CHECK (issued_quantity <= total_quantity) makes overselling impossible
 * whatever was decided upstream. `open` is null when the coupon does not exist.
 *
 * Only users that still exist are inserted, and the others are named in `gone_users`: a user
 * deleted after their request was accepted would otherwise fail the foreign key, and with it the
 * whole batch, every retry of it, and every innocent request that shares it.
 */
const WRITE_ISSUES_SQL = `
  WITH coupon AS (
    SELECT (status = 'ACTIVE' AND (starts_at IS NULL OR starts_at <= now()) AND (ends_at IS NULL OR ends_at > now())) AS open
      FROM coupons WHERE id = $1
  ), requested AS MATERIALIZED (
    SELECT g.user_id, g.code, EXISTS (SELECT 1 FROM users u WHERE u.id = g.user_id) AS known
      FROM unnest($2::int[], $3::text[]) AS g(user_id, code)
  ), issued AS (
    INSERT INTO coupon_issues (coupon_id, user_id, code)
    SELECT $1, r.user_id, r.code FROM requested r
     WHERE r.known AND (SELECT open FROM coupon)
    ON CONFLICT (coupon_id, user_id) DO NOTHING
    RETURNING id, coupon_id, user_id, code, issued_at
  ), counted AS (
    UPDATE coupons SET issued_quantity = issued_quantity + (SELECT count(*) FROM issued), updated_at = now()
     WHERE id = $1 AND EXISTS (SELECT 1 FROM issued)
  )
  SELECT (SELECT open FROM coupon) AS open,
         ARRAY(SELECT r.user_id FROM requested r WHERE NOT r.known) AS gone_users,
         i.id, i.coupon_id, i.user_id, i.code, i.issued_at
    FROM (SELECT 1) AS one LEFT JOIN issued i ON true`;

type WriteRow = { open: boolean | null; gone_users: number[] } & Partial<IssueRow>;

const isOverTotal = (error: unknown) =>
  pgCode(error) === PgCode.CHECK_VIOLATION && pgConstraint(error) === 'coupons_issued_within_total';

/** Writes decided issues to PostgreSQL, many per statement. */
@Injectable()
export class IssueWriter {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * write() behind a per-coupon group commit: requests of one coupon that arrive while its write
   * is in flight go together into the next write. Past `maxQueued` waiting, the answer is 503.
   */
  batcher(limits: { maxBatch: number; maxQueued: number }): KeyedBatcher<number, number, WriteResult> {
    return new KeyedBatcher<number, number, WriteResult>(
      async (couponId, userIds) => (await this.write(couponId, userIds)).map((value) => ({ ok: true, value })),
      { ...limits, overflow: () => unavailable('too many writes waiting for this coupon') },
    );
  }

  /**
   * Writes the batch in one statement (atomic on its own, or part of the caller's transaction
   * when `tx` is given). If the batch as a whole would pass the total, which only happens when
   * upstream state ran ahead of PostgreSQL (e.g. Redis rebuilt while writes were in flight),
   * each user is written alone so that those that fit still get theirs.
   */
  async write(couponId: number, userIds: number[], tx?: EntityManager): Promise<WriteResult[]> {
    try {
      return await this.writeBatch(tx ?? this.db.manager, couponId, userIds);
    } catch (error) {
      // inside the caller's transaction the violation aborted it: nothing left to split
      if (!isOverTotal(error) || tx) throw error;
    }
    const results: WriteResult[] = [];
    for (const userId of userIds) {
      try {
        results.push(...(await this.writeBatch(this.db.manager, couponId, [userId])));
      } catch (error) {
        if (!isOverTotal(error)) throw error;
        results.push({ kind: 'sold-out' });
      }
    }
    return results;
  }

  private async writeBatch(runner: EntityManager, couponId: number, userIds: number[]): Promise<WriteResult[]> {
    const rows = await runner.query<WriteRow[]>(WRITE_ISSUES_SQL, [couponId, userIds, userIds.map(() => newIssueCode())]);
    const open = rows[0]?.open ?? null;
    const goneUsers = new Set(rows[0]?.gone_users ?? []);
    const issued = new Map<number, IssueView>();
    for (const row of rows) if (row.id !== null && row.id !== undefined) issued.set(row.user_id!, toIssueView(row as IssueRow));
    return userIds.map((userId): WriteResult => {
      const issue = issued.get(userId);
      // the same user twice in one batch (two requests at once): one issue, and one 'held'
      issued.delete(userId);
      if (issue) return { kind: 'issued', issue };
      if (goneUsers.has(userId)) return { kind: 'user-gone' };
      if (open === null) return { kind: 'gone' };
      if (!open) return { kind: 'closed' };
      return { kind: 'held' };
    });
  }
}

/** The answer a user gets for a write result that is not an issue. */
export function writeRefusal(couponId: number, result: Exclude<WriteResult, { kind: 'issued' }>): DomainError {
  switch (result.kind) {
    case 'held':
      return alreadyIssued(couponId);
    case 'closed':
      return notOpen(couponId, 'the campaign closed');
    case 'sold-out':
      return soldOut(couponId);
    case 'gone':
      return couponNotFound(couponId);
    case 'user-gone':
      return new DomainError(ErrorCode.UNAUTHORIZED, 'The user of this request no longer exists');
  }
}
