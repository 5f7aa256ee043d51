import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DomainError } from '../../common/errors/domain.error';
import type { ReservationDecision } from '../reservation/reservation-scripts';
import type { KeyedBatcher } from '../../common/keyed-batcher';
import { DatabaseConfig } from '../../config/database.config';
import { RateLimitConfig } from '../../config/rate-limit.config';
import { CouponsService } from '../../coupons/coupons.service';
import { surelyNotCommitted } from '../../database/postgres-errors';
import { REDIS, type RedisClient } from '../../redis/redis.module';
import { CancelRequest, IssueCanceller } from '../issue-canceller';
import { IssueWriter, WriteRequest, WriteResult } from '../issue-writer';
import { IssueStore } from '../issue.store';
import { refusalError } from '../refusal';
import { PendingRequests } from '../reservation/pending-requests';
import { ReservationRebuild } from '../reservation/reservation-rebuild';
import { ReservationStore } from '../reservation/reservation.store';
import { ReplicaConfirmation } from '../reservation/replica-confirmation';
import { ReservedCancellation } from '../reservation/reserved-cancellation';
import { UnsettledWriteRepair } from '../reservation/unsettled-write-repair';
import { DependencyProbe, IssuanceStrategy, redisProbe, IssueOutcome, IssueState, StrategyStats } from './issuance.strategy';

/** Per-process bounds of the PostgreSQL write: rows per statement, and requests waiting per coupon. */
const MAX_BATCH = 1000;
const MAX_QUEUED_PER_COUPON = 50_000;

/**
 * `redis`: Redis decides, PostgreSQL records. One Lua script checks, atomically, that the coupon
 * is open, that the user holds none, and that stock is left, then reserves. Only a reserved request
 * reaches PostgreSQL, which therefore sees at most `total` writers per coupon instead of the whole
 * crowd. The write holds no lock while it waits, and makes no Redis call inside its statement.
 *
 * The write is group-committed: the requests of one coupon that arrive while its previous write
 * is in flight go into the next write together, as one multi-row insert and one counter update.
 * The hot counter row is then updated once per batch, not once per issue, so committed issues per
 * second are not capped by per-commit latency. The counter still moves in the same statement as
 * the rows, so `issued_quantity = count(rows)` holds at every commit.
 *
 * PostgreSQL stays the last guard (UNIQUE, the CHECK on the total, the open-window test in the
 * insert). When it refuses, or surely wrote nothing, the reservation is given back. When the
 * outcome is unknown (connection lost mid-commit), the reservation is kept and recorded as
 * unsettled: a retry of the user makes the write good, and otherwise UnsettledWriteRepair decides
 * it from PostgreSQL once no statement of it can still run. It holds a unit back for a while, and
 * never sells one twice. 201 is answered only after commit.
 */
@Injectable()
export class RedisReservationStrategy extends IssuanceStrategy implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  readonly name = 'redis' as const;
  private readonly logger = new Logger(RedisReservationStrategy.name);
  private readonly batcher: KeyedBatcher<number, WriteRequest, WriteResult>;
  private readonly cancellation: ReservedCancellation;
  private readonly unsettled: UnsettledWriteRepair;

  constructor(
    private readonly reservations: ReservationStore,
    private readonly rebuilder: ReservationRebuild,
    private readonly pending: PendingRequests,
    writer: IssueWriter,
    private readonly issues: IssueStore,
    private readonly coupons: CouponsService,
    @Inject(REDIS) private readonly redis: RedisClient,
    canceller: IssueCanceller,
    private readonly limits: RateLimitConfig,
    database: DatabaseConfig,
    replicas: ReplicaConfirmation,
    @InjectDataSource() db: DataSource,
  ) {
    super();
    this.batcher = writer.batcher({ maxBatch: MAX_BATCH, maxQueued: MAX_QUEUED_PER_COUPON });
    this.cancellation = new ReservedCancellation(reservations, pending, canceller, replicas, issues);
    this.unsettled = new UnsettledWriteRepair(db, reservations, pending, 2 * database.statementTimeoutMs);
  }

  onApplicationBootstrap(): void {
    this.unsettled.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.unsettled.stop();
  }

  onModuleInit(): void {
    this.rebuilder.keepInStepWith(this.coupons);
  }

  async issue(couponId: number, userId: number): Promise<IssueOutcome> {
    let decision: ReservationDecision;
    try {
      decision = await this.reservations.reserve(couponId, userId, { perSecond: this.limits.issuePerSecond });
    } catch (error) {
      // a timeout, a dropped connection: the script may have run with its answer lost (a paused
      // Redis runs it later), reserving a unit that no write will follow: PostgreSQL decides it.
      // Not awaited: Redis is failing, and the 503 is not held up by a second wait for it (a record
      // that never lands leaves the unit to HoldersRepair)
      if (!(error instanceof DomainError)) void this.recordUnsettled(couponId, userId);
      throw error;
    }
    if (decision === 'ALREADY_ISSUED') return this.confirmHeld(couponId, userId);
    if (decision !== 'GRANTED' && decision !== 'REVIVED') throw refusalError(couponId, decision);
    let result: WriteResult;
    try {
      result = await this.batcher.submit(couponId, { userId });
    } catch (error) {
      if (surelyNotCommitted(error) || error instanceof DomainError) await this.releaseReservation(couponId, userId);
      else await this.recordUnsettled(couponId, userId);
      throw error;
    }
    if (result.kind === 'issued') return { status: 'ISSUED', issue: result.issue };
    // ALREADY_ISSUED: PostgreSQL already has this user's row, so the reservation is right and stays
    if (result.refusal !== 'ALREADY_ISSUED') await this.releaseReservation(couponId, userId);
    throw refusalError(couponId, result.refusal);
  }

  /**
   * Redis holds a unit for this user. Usually PostgreSQL has their row, and the answer is 409
   * ALREADY_ISSUED. But a reservation can outlive its request: Redis ran the script and its
   * answer was lost (a timeout, a dropped connection), so the client got a 503 and nothing was
   * written. The unit is this user's either way, so it is written now, through the same idempotent
   * batch write: ALREADY_ISSUED means the row was there (409); 'issued' means the lost write is made good
   * (201), instead of telling the user they hold a coupon they do not.
   *
   * A row made here may be one the user has just given back (their give-back ran between the
   * reservation script and this write). settle.lua tells: then the row is taken back, and the
   * answer is the one true before the give-back, ALREADY_ISSUED.
   */
  private async confirmHeld(couponId: number, userId: number): Promise<IssueOutcome> {
    let result: WriteResult;
    try {
      result = await this.batcher.submit(couponId, { userId });
    } catch (error) {
      if (!(error instanceof DomainError)) await this.recordUnsettled(couponId, userId); // the unit is theirs, or no one's: PostgreSQL will say
      throw error;
    }
    if (result.kind === 'refused') throw refusalError(couponId, result.refusal); // held, or closed/sold out in PostgreSQL: the unit waits for reconcile
    // the request that reserved this unit is older than this one, and unknown (no stamp): any
    // give-back of this user on record is evidence enough that a row made now is stale
    const kept = await this.cancellation.settleWritten(couponId, [{ userId, inserted: true }]);
    if (!kept.has(userId)) throw refusalError(couponId, 'ALREADY_ISSUED');
    return { status: 'ISSUED', issue: result.issue };
  }

  cancel(couponId: number, request: CancelRequest): Promise<void> {
    return this.cancellation.cancel(couponId, request, { withdrawPending: false });
  }

  /**
   * The reservation of a request whose write surely did not commit (or was refused) goes back. The
   * same user's other request (on another process, making good a reservation whose answer was
   * lost) may have committed their row meanwhile, so PostgreSQL is asked after the release, and a
   * row found lists them again (restore-holder.lua). In between, the unit may be granted to
   * someone else, whose write PostgreSQL's CHECK then refuses: held back a moment, never oversold.
   */
  /** The write's outcome is unknown: PostgreSQL decides it later (UnsettledWriteRepair). */
  private async recordUnsettled(couponId: number, userId: number): Promise<void> {
    await this.pending.recordUnsettled(couponId, userId).catch((error: Error) => {
      // Stock held back, never oversold: POST /coupons/:id/reconcile returns it.
      this.logger.warn(`could not record the unsettled write of user ${userId} on coupon ${couponId}: ${error.message}`);
    });
  }

  private async releaseReservation(couponId: number, userId: number): Promise<void> {
    try {
      if (!(await this.reservations.release(couponId, userId))) return;
      if (await this.issues.findHeld(couponId, userId)) await this.reservations.restoreHolder(couponId, userId);
    } catch (error) {
      // Stock held back, never oversold: POST /coupons/:id/reconcile returns it.
      this.logger.warn(`could not release the reservation of user ${userId} on coupon ${couponId}: ${(error as Error).message}`);
    }
  }

  async state(couponId: number, userId: number): Promise<IssueState | undefined> {
    const issue = await this.issues.findHeld(couponId, userId);
    if (issue) return { status: 'ISSUED', issue };
    return (await this.reservations.isHolder(couponId, userId)) ? { status: 'PENDING' } : undefined;
  }

  async stats(couponId: number, issuedRows: number): Promise<StrategyStats> {
    const taken = await this.reservations.taken(couponId);
    return { pending: Math.max(0, (taken ?? issuedRows) - issuedRows), redisReserved: taken };
  }

  /** Redis' holders: written, and reserved or pending (owed a unit) alike. */
  holdersIfAtMost(couponId: number, atMost: number): Promise<Set<number> | undefined> {
    return this.reservations.holdersIfAtMost(couponId, atMost);
  }

  async reconcile(couponId: number): Promise<void> {
    await this.rebuilder.rebuild(couponId, 'replace');
  }

  dependencies(): DependencyProbe[] {
    return [redisProbe(this.redis)];
  }
}
