import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { unavailable } from '../common/errors/domain.error';
import { ItemResult, KeyedBatcher } from '../common/keyed-batcher';
import { ADVISORY_LOCK } from '../database/advisory-locks';
import { epochMs } from '../database/sql-time';
import { PreparedStatement } from '../database/prepared-statement';
import { retryTransaction } from '../database/retry-transaction';
import { CANCEL_SQL, LEFT_SQL, REMOVE_RECREATED_SQL } from './cancel-statements';
import type { CancelReason, CancelRefusal } from './refusal';

/** Whose issue of the coupon leaves, and why; `issueId` pins the exact issue (a revocation). */
export interface CancelRequest {
  userId: number;
  issueId?: number;
  reason: CancelReason;
}

export type CancelResult = { kind: 'cancelled'; issueId: number } | { kind: 'refused'; refusal: CancelRefusal };

/** Per-process bounds: cancellations of one coupon per statement, and waiting for one. */
const MAX_BATCH = 500;
const MAX_QUEUED_PER_COUPON = 20_000;

/** Run after every batch a worker writes (withdrawnSince): prepared once per connection. */
const WITHDRAWN_SINCE = new PreparedStatement(
  'withdrawn-since',
  `SELECT w.user_id, ${epochMs('w.withdrawn_at')} AS at FROM coupon_withdrawals w
     JOIN unnest($2::int[], $3::float8[]) AS a(user_id, asked_at) ON a.user_id = w.user_id
    WHERE w.coupon_id = $1 AND w.withdrawn_at >= to_timestamp(a.asked_at / 1000.0)`,
);

/**
 * Takes issues back in PostgreSQL: a holder's give-back, an admin's revocation, a withdrawn queued
 * request that a worker wrote anyway. Group-committed per coupon like the writes, because a
 * give-back moves the same hot counter row. Each batch first takes the coupon's issuer lock (as a
 * transaction lock), so it queues behind a `pessimistic` batch instead of failing that batch's
 * REPEATABLE READ snapshot with a serialization error.
 */
@Injectable()
export class IssueCanceller {
  private readonly batcher = new KeyedBatcher<number, CancelRequest, CancelResult>(
    async (couponId, requests) => (await this.cancelNow(couponId, requests)).map((value): ItemResult<CancelResult> => ({ ok: true, value })),
    { maxBatch: MAX_BATCH, maxQueued: MAX_QUEUED_PER_COUPON, overflow: () => unavailable('too many give-backs waiting for this coupon') },
  );

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  cancel(couponId: number, request: CancelRequest): Promise<CancelResult> {
    return this.batcher.submit(couponId, request);
  }

  /**
   * A row just made again for a request its user has since given back, or had revoked (a lost
   * write made good, a write that raced the give-back): removed, without a second record (the
   * first one says why). The request is named by its stamp (`queue`), which the cancellation
   * carries; without one (`redis`, whose request time is unknown), any give-back of the user on
   * record counts. No clock is compared. True when such a give-back was found.
   */
  async removeIfGivenBack(couponId: number, userId: number, requestStamp: number | undefined): Promise<boolean> {
    return this.underIssuerLock(couponId, async (tx) => {
      const [since] = await tx.query<{ found: boolean }[]>(
        `SELECT EXISTS (SELECT 1 FROM coupon_issue_cancellations WHERE coupon_id = $1 AND user_id = $2 AND ($3::bigint IS NULL OR request_stamp = $3)) AS found`,
        [couponId, userId, requestStamp ?? null],
      );
      if (!since.found) return false;
      await tx.query(REMOVE_RECREATED_SQL, [couponId, userId, requestStamp ?? null]);
      return true;
    });
  }

  /**
   * A pending request withdrawn (queue), recorded before its 204, so the worker that writes it
   * takes the row back even if Redis loses its mark (withdrawnSince). The record commits first,
   * then a row already written is taken back (as a give-back: `cancelled`, and the caller gives
   * its unit back). A writer commits its rows, then reads the records: of two sides that each
   * write, then read, one always sees the other, so no row outlives its withdrawal, and neither
   * side waits for the other's locks.
   */
  async withdraw(couponId: number, userId: number, withdrawnAt: number): Promise<CancelResult> {
    await this.db.query(
      `INSERT INTO coupon_withdrawals (coupon_id, user_id, withdrawn_at) VALUES ($1, $2, to_timestamp($3 / 1000.0))
       ON CONFLICT (coupon_id, user_id) DO UPDATE SET withdrawn_at = EXCLUDED.withdrawn_at`,
      [couponId, userId, withdrawnAt],
    );
    return this.cancel(couponId, { userId, reason: 'GIVEN_BACK' });
  }

  /**
   * A withdrawn request's row, taken back by the worker that wrote it; row and unit are left alone
   * when the row was asked for after the withdrawal (`taken-up`: its stamp is later), or when the
   * withdrawal is not on record (`unrecorded`): its user asked again (reserve.lua's REVIVED deletes
   * the record before the new 202), or the API that marked it in Redis has not recorded it (it
   * died, or is about to). The record is locked for the take-back, so a revive waits for it, or it
   * for the revive. Only the row judged here is taken (by its id): a row committed meanwhile is a
   * newer request's (its user asked again; writers do not take the issuer lock), and stays.
   */
  async cancelWithdrawn(couponId: number, userId: number): Promise<CancelResult | { kind: 'taken-up' | 'unrecorded' }> {
    return this.underIssuerLock(couponId, async (tx) => {
      const [record] = await tx.query<{ at: number }[]>(
        `SELECT ${epochMs('withdrawn_at')} AS at FROM coupon_withdrawals WHERE coupon_id = $1 AND user_id = $2 FOR UPDATE`,
        [couponId, userId],
      );
      const [row] = await tx.query<{ id: string; stamp: number | null }[]>(
        `SELECT id, request_stamp AS stamp FROM coupon_issues WHERE coupon_id = $1 AND user_id = $2`,
        [couponId, userId],
      );
      if (!row) return { kind: 'refused' as const, refusal: 'NOT_HELD' as const };
      if (!record) return { kind: 'unrecorded' as const };
      if (row.stamp !== null && Number(record.at) < Number(row.stamp)) return { kind: 'taken-up' as const };
      return (await this.cancelIn(tx, couponId, [{ userId, issueId: Number(row.id), reason: 'GIVEN_BACK' }]))[0];
    });
  }

  /** A withdrawal taken back by its user asking again (reserve.lua's REVIVED): no longer on record. */
  async deleteWithdrawalRecord(couponId: number, userId: number): Promise<void> {
    await this.db.query(`DELETE FROM coupon_withdrawals WHERE coupon_id = $1 AND user_id = $2`, [couponId, userId]);
  }

  /**
   * Of the users just written, those who withdrew since their request was made (`requestStamp`,
   * ms; unknown: any withdrawal): user -> when (ms). Both are the coupon's Redis clock (reserve.lua
   * stamps a request, give-back.lua dates a withdrawal at or after it).
   */
  async withdrawnSince(couponId: number, written: { userId: number; requestStamp?: number }[]): Promise<Map<number, number>> {
    if (!written.length) return new Map();
    const rows = await WITHDRAWN_SINCE.run<{ user_id: number; at: number }>(this.db.manager, [
      couponId,
      written.map((w) => w.userId),
      written.map((w) => w.requestStamp ?? 0),
    ]);
    return new Map(rows.map((r) => [Number(r.user_id), Number(r.at)]));
  }

  /** One transaction for these requests now; retried when PostgreSQL failed it for concurrency alone. */
  cancelNow(couponId: number, requests: CancelRequest[]): Promise<CancelResult[]> {
    return this.underIssuerLock(couponId, (tx) => this.cancelIn(tx, couponId, requests));
  }

  /** A transaction that first takes the coupon's issuer lock; retried when PostgreSQL failed it for concurrency alone. */
  private underIssuerLock<T>(couponId: number, work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return retryTransaction(
      () =>
        this.db.transaction(async (tx) => {
          await tx.query('SELECT pg_advisory_xact_lock($1, $2)', [ADVISORY_LOCK.issuersOfCoupon, couponId]);
          return work(tx);
        }),
      { attempts: 8, baseDelayMs: 2 },
    );
  }

  private async cancelIn(tx: EntityManager, couponId: number, requests: CancelRequest[]): Promise<CancelResult[]> {
    const userIds = requests.map((r) => r.userId);
    const gone = await tx.query<{ id: string; user_id: number }[]>(CANCEL_SQL, [
      couponId,
      userIds,
      requests.map((r) => r.issueId ?? null),
      requests.map((r) => r.reason),
    ]);
    const cancelled = new Map(gone.map((row) => [row.user_id, Number(row.id)]));
    const left = cancelled.size === requests.length ? [] : await tx.query<{ id: string; user_id: number; redeemed: boolean }[]>(LEFT_SQL, [couponId, userIds]);
    const redeemed = new Map(left.filter((row) => row.redeemed).map((row) => [row.user_id, Number(row.id)]));
    return requests.map((request): CancelResult => {
      const issueId = cancelled.get(request.userId);
      if (issueId !== undefined) {
        cancelled.delete(request.userId); // the same user twice in one batch: one cancellation, then nothing held
        return { kind: 'cancelled', issueId };
      }
      const redeemedId = redeemed.get(request.userId);
      const isThatIssue = redeemedId !== undefined && (request.issueId === undefined || request.issueId === redeemedId);
      return { kind: 'refused', refusal: isThatIssue ? 'ALREADY_REDEEMED' : 'NOT_HELD' };
    });
  }
}
