import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { isUniqueViolation } from '../../database/postgres-errors';
import { retryTransaction } from '../../database/retry-transaction';
import { assertIssuable, ISSUABLE_SQL, IssuableRow } from '../issuable';
import { alreadyIssued } from '../issuance.errors';
import { newIssueCode } from '../issue-code';
import { IssueStore } from '../issue.store';
import { IssueRow, IssueView, toIssueView } from '../issue.view';
import { IssuanceStrategy, IssueOutcome, IssueState } from './issuance.strategy';

/** First key of the two-key advisory lock that queues issuers of one coupon (second key: coupon id). */
const ISSUE_LOCK_SPACE = 727_002;

/**
 * Inserts the issue and counts it in one statement; ON CONFLICT makes a duplicate a no-op
 * (no row returned) instead of an aborted transaction, and the counter moves only with a row.
 */
const INSERT_ISSUE_SQL = `
  WITH issued AS (
    INSERT INTO coupon_issues (coupon_id, user_id, code) VALUES ($1, $2, $3)
    ON CONFLICT (coupon_id, user_id) DO NOTHING
    RETURNING id, coupon_id, user_id, code, issued_at
  ), counted AS (
    UPDATE coupons SET issued_quantity = issued_quantity + 1, updated_at = now()
     WHERE id = $1 AND EXISTS (SELECT 1 FROM issued)
  )
  SELECT * FROM issued`;

/**
 * `pessimistic`: one REPEATABLE READ transaction that locks the coupon row (SELECT … FOR UPDATE),
 * checks, then inserts and counts. Needs nothing but PostgreSQL.
 *
 * Under REPEATABLE READ a waiter on a row lock is failed with 40001 once the holder commits, since
 * the row changed after the waiter's snapshot was taken (at 50+ concurrent clients that is most
 * attempts). The manual's way out ("Enforcing Consistency with Explicit Blocking Locks"): take the
 * lock *before* the snapshot is frozen, which happens at the transaction's first query. So issuers
 * of one coupon first queue on a session advisory lock, outside the transaction; whoever holds it
 * starts its transaction only after the previous holder committed, and its FOR UPDATE finds the row
 * free and current. 40001 remains possible (e.g. an admin PATCH between), and is retried.
 *
 * Refusals that a plain committed read can prove (sold out, already held, closed) are answered
 * without any lock: they can only say no, never yes, so they cannot oversell.
 */
@Injectable()
export class PessimisticLockStrategy extends IssuanceStrategy {
  readonly name = 'pessimistic' as const;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly issues: IssueStore,
  ) {
    super();
  }

  async issue(couponId: number, userId: number): Promise<IssueOutcome> {
    const [early] = await this.db.query<IssuableRow[]>(ISSUABLE_SQL, [couponId, userId]);
    assertIssuable(couponId, early);
    const issue = await retryTransaction(() => this.issueUnderLock(couponId, userId), {
      attempts: 8,
      baseDelayMs: 2,
      // a clash of two random codes (astronomically rare): draw again
      retryIf: (error) => isUniqueViolation(error, 'coupon_issues_code_key'),
    });
    return { status: 'ISSUED', issue };
  }

  private async issueUnderLock(couponId: number, userId: number): Promise<IssueView> {
    const runner = this.db.createQueryRunner();
    await runner.connect();
    try {
      await runner.query('SELECT pg_advisory_lock($1, $2)', [ISSUE_LOCK_SPACE, couponId]);
      try {
        return await runner.manager.transaction('REPEATABLE READ', async (tx) => {
          const [coupon] = await tx.query<IssuableRow[]>(`${ISSUABLE_SQL} FOR UPDATE OF c`, [couponId, userId]);
          assertIssuable(couponId, coupon);
          const [row] = await tx.query<IssueRow[]>(INSERT_ISSUE_SQL, [couponId, userId, newIssueCode()]);
          if (!row) throw alreadyIssued(couponId);
          return toIssueView(row);
        });
      } finally {
        await runner.query('SELECT pg_advisory_unlock($1, $2)', [ISSUE_LOCK_SPACE, couponId]);
      }
    } finally {
      await runner.release();
    }
  }

  async state(couponId: number, userId: number): Promise<IssueState | undefined> {
    const issue = await this.issues.findHeld(couponId, userId);
    return issue && { status: 'ISSUED', issue };
  }

  async pending(): Promise<number> {
    return 0;
  }

  async reconcile(): Promise<void> {
    // Nothing is kept outside PostgreSQL.
  }

  async checkHealth(): Promise<void> {
    // Needs PostgreSQL only, which the health check probes itself.
  }
}
