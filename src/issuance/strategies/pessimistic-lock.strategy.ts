import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { unavailable } from '../../common/errors/domain.error';
import { RateLimitConfig } from '../../config/rate-limit.config';
import { FixedWindowCounter } from '../../rate-limit/fixed-window-counter';
import { ItemResult, KeyedBatcher } from '../../common/keyed-batcher';
import { isUniqueViolation } from '../../database/postgres-errors';
import { retryTransaction } from '../../database/retry-transaction';
import { CouponStateRow, decideBatch } from '../issuable';
import { IssueWriter } from '../issue-writer';
import { CancelRequest, IssueCanceller } from '../issue-canceller';
import { ADVISORY_LOCK } from '../../database/advisory-locks';
import { cancelRefusalError, ISSUE_RATE_WINDOW_MS, refusalError } from '../refusal';
import { IssueStore } from '../issue.store';
import type { IssueView } from '../issue.view';
import { DependencyProbe, IssuanceStrategy, IssueOutcome, IssueState, StrategyStats } from './issuance.strategy';

/** The coupon row, locked, and which of the batch's users already hold this coupon. */
const LOCK_COUPON_SQL = `
  SELECT c.status, c.starts_at, c.ends_at, c.total_quantity, c.issued_quantity,
         ARRAY(SELECT i.user_id FROM coupon_issues i WHERE i.coupon_id = c.id AND i.user_id = ANY($2::int[])) AS held
    FROM coupons c
   WHERE c.id = $1
     FOR UPDATE OF c`;

/** Per-process bounds: one flush decides at most this many requests; more waiting gets 503 at once. */
const MAX_BATCH = 500;
const MAX_QUEUED_PER_COUPON = 20_000;

/**
 * `pessimistic`: the decision is made in PostgreSQL, inside a REPEATABLE READ transaction that
 * locks the coupon row (SELECT … FOR UPDATE), checks, inserts and counts. Needs nothing but
 * PostgreSQL.
 *
 * Group commit: while one transaction for a coupon is in flight, this process queues further
 * requests for that coupon, and the next transaction decides them all at once, first come first
 * served. One lock, one fsync, for a whole batch. Each request is still decided under the row lock,
 * so several processes stay correct together.
 *
 * Under REPEATABLE READ, a waiter on a row lock gets 40001 once the holder commits, because the row
 * changed after the waiter's snapshot. PostgreSQL's manual ("Enforcing Consistency with Explicit
 * Blocking Locks") says to take the lock *before* the snapshot is frozen at the first query. So
 * transactions of one coupon queue on a session advisory lock first, outside the transaction. A
 * 40001 that still happens (an admin PATCH in between) is retried.
 */
@Injectable()
export class PessimisticLockStrategy extends IssuanceStrategy implements OnApplicationShutdown {
  readonly name = 'pessimistic' as const;
  /** Without Redis, each user's requests per coupon are counted in the process (reserve.lua counts them for the others). */
  private readonly requests = new FixedWindowCounter(ISSUE_RATE_WINDOW_MS);
  private readonly batcher = new KeyedBatcher<number, number, IssueView>((couponId, userIds) => this.flush(couponId, userIds), {
    maxBatch: MAX_BATCH,
    maxQueued: MAX_QUEUED_PER_COUPON,
    overflow: () => unavailable('too many requests waiting for this coupon'),
  });

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly issues: IssueStore,
    private readonly writer: IssueWriter,
    private readonly canceller: IssueCanceller,
    private readonly limits: RateLimitConfig,
  ) {
    super();
  }

  onApplicationShutdown(): void {
    this.requests.close();
  }

  async issue(couponId: number, userId: number): Promise<IssueOutcome> {
    const perSecond = this.limits.issuePerSecond;
    if (perSecond > 0 && !this.requests.admit(`${couponId}:${userId}`, perSecond)) throw refusalError(couponId, 'RATE_LIMITED');
    return { status: 'ISSUED', issue: await this.batcher.submit(couponId, userId) };
  }

  private flush(couponId: number, userIds: number[]): Promise<ItemResult<IssueView>[]> {
    return retryTransaction(() => this.decideAndWrite(couponId, userIds), {
      attempts: 8,
      baseDelayMs: 2,
      // a clash of two random codes (astronomically rare): draw again
      retryIf: (error) => isUniqueViolation(error, 'coupon_issues_code_key'),
    });
  }

  private async decideAndWrite(couponId: number, userIds: number[]): Promise<ItemResult<IssueView>[]> {
    const runner = this.db.createQueryRunner();
    await runner.connect();
    try {
      await runner.query('SELECT pg_advisory_lock($1, $2)', [ADVISORY_LOCK.issuersOfCoupon, couponId]);
      try {
        return await runner.manager.transaction('REPEATABLE READ', (tx) => this.decideLocked(tx, couponId, userIds));
      } finally {
        // The lock belongs to the session. A connection that died took it along, and TypeORM has
        // released the runner: unlocking then would only replace the error that says why.
        if (!runner.isReleased) await runner.query('SELECT pg_advisory_unlock($1, $2)', [ADVISORY_LOCK.issuersOfCoupon, couponId]);
      }
    } finally {
      await runner.release();
    }
  }

  private async decideLocked(tx: EntityManager, couponId: number, userIds: number[]): Promise<ItemResult<IssueView>[]> {
    const [coupon] = await tx.query<(CouponStateRow & { held: number[] })[]>(LOCK_COUPON_SQL, [couponId, userIds]);
    const decisions = decideBatch(coupon, userIds, new Set(coupon?.held));
    const granted = userIds.filter((_, i) => decisions[i] === 'GRANTED');
    const written = granted.length ? await this.writer.write(couponId, granted, { tx }) : [];
    let next = 0;
    return decisions.map((decision): ItemResult<IssueView> => {
      if (decision !== 'GRANTED') return { ok: false, error: refusalError(couponId, decision) };
      const result = written[next++];
      return result.kind === 'issued' ? { ok: true, value: result.issue } : { ok: false, error: refusalError(couponId, result.refusal) };
    });
  }

  /** PostgreSQL alone: the row leaves and the counter goes down in one statement, so the next batch sees the room. */
  async cancel(couponId: number, request: CancelRequest): Promise<void> {
    const result = await this.canceller.cancel(couponId, request);
    if (result.kind === 'refused') throw cancelRefusalError(couponId, result.refusal, request.reason);
  }

  async state(couponId: number, userId: number): Promise<IssueState | undefined> {
    const issue = await this.issues.findHeld(couponId, userId);
    return issue && { status: 'ISSUED', issue };
  }

  async stats(): Promise<StrategyStats> {
    return { pending: 0 };
  }

  holdersIfAtMost(couponId: number, atMost: number): Promise<Set<number> | undefined> {
    return this.issues.holdersIfAtMost(couponId, atMost);
  }

  async reconcile(): Promise<void> {
    // Nothing is kept outside PostgreSQL.
  }

  dependencies(): DependencyProbe[] {
    return []; // PostgreSQL only, which readiness probes itself
  }
}
