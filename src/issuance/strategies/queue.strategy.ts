import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { CouponsService } from '../../coupons/coupons.service';
import { REDIS, type RedisClient } from '../../redis/redis.module';
import { CancelRequest, IssueCanceller } from '../issue-canceller';
import { IssueStore } from '../issue.store';
import { RateLimitConfig } from '../../config/rate-limit.config';
import { IssueQueue } from '../queue/issue-queue';
import { PendingRequests } from '../reservation/pending-requests';
import { ReplicaConfirmation } from '../reservation/replica-confirmation';
import { ReservationRebuild } from '../reservation/reservation-rebuild';
import { ReservationStore } from '../reservation/reservation.store';
import { ReservedCancellation } from '../reservation/reserved-cancellation';
import { refusalError } from '../refusal';
import { DependencyProbe, IssuanceStrategy, redisProbe, IssueOutcome, IssueState, StrategyStats } from './issuance.strategy';

/**
 * `queue`: the API only accepts. The same atomic Lua step as `redis` reserves the unit and records
 * the request as pending, then a BullMQ job (ids only) is added, and the answer is 202. Workers
 * (IssueProcessor, beside the producer in `../queue/`; run with RUN_WORKER in the API, or by
 * `npm run start:worker` processes) write the rows in batches and settle each request to ISSUED,
 * or to REJECTED with its unit given back.
 *
 * The promise of a 202: the reservation and its pending record are one atomic write to Redis. With
 * append-only persistence they survive a Redis restart, and they are settled only after PostgreSQL
 * has committed or refused. Between those points, any single crash is recovered: a worker killed
 * mid-batch has its jobs redelivered, and the writes are idempotent; an API killed between reserve
 * and enqueue leaves a pending record without a job, which the sweeper enqueues again after
 * SWEEP_GRACE_MS.
 */
@Injectable()
export class QueueStrategy extends IssuanceStrategy implements OnModuleInit {
  readonly name = 'queue' as const;
  private readonly cancellation: ReservedCancellation;

  constructor(
    private readonly reservations: ReservationStore,
    private readonly rebuilder: ReservationRebuild,
    private readonly pending: PendingRequests,
    replicas: ReplicaConfirmation,
    private readonly issues: IssueStore,
    private readonly coupons: CouponsService,
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly queue: IssueQueue,
    private readonly limits: RateLimitConfig,
    private readonly canceller: IssueCanceller,
  ) {
    super();
    this.cancellation = new ReservedCancellation(reservations, pending, canceller, replicas, issues);
  }

  onModuleInit(): void {
    this.rebuilder.keepInStepWith(this.coupons);
  }

  async issue(couponId: number, userId: number): Promise<IssueOutcome> {
    const decision = await this.reservations.reserve(couponId, userId, { recordPending: true, perSecond: this.limits.issuePerSecond });
    if (decision !== 'GRANTED' && decision !== 'REVIVED') throw refusalError(couponId, decision);
    // asked again right after withdrawing: the withdrawn request is theirs again, and PostgreSQL's
    // record of the withdrawal goes before the 202, so no worker takes its row back on that record
    if (decision === 'REVIVED') await this.canceller.deleteWithdrawalRecord(couponId, userId);
    // If this fails (Redis gone mid-way), the request stays pending and the sweeper enqueues it:
    // the caller gets a 503 now and may find it ISSUED later, which is what an unknown outcome means.
    await this.queue.add(couponId, userId);
    return { status: 'PENDING', couponId };
  }

  /** The holder's give-back also withdraws a request still pending; an admin revokes written issues only. */
  cancel(couponId: number, request: CancelRequest): Promise<void> {
    return this.cancellation.cancel(couponId, request, { withdrawPending: request.reason === 'GIVEN_BACK' });
  }

  /**
   * Pending is asked first, of Redis alone: most polls come while a request is pending, and they
   * are answered even while PostgreSQL is down. A request leaves pending only after its row is
   * committed (or refused), so once it is not pending the row, if any, is there to be found.
   */
  async state(couponId: number, userId: number): Promise<IssueState | undefined> {
    if (await this.pending.isPending(couponId, userId)) return { status: 'PENDING' };
    const issue = await this.issues.findHeld(couponId, userId);
    if (issue) return { status: 'ISSUED', issue };
    const reason = await this.pending.rejection(couponId, userId);
    return reason ? { status: 'REJECTED', reason } : undefined;
  }

  async stats(couponId: number): Promise<StrategyStats> {
    const [pending, redisReserved, queueDepth] = await Promise.all([this.pending.count(couponId), this.reservations.taken(couponId), this.queue.depth()]);
    return { pending, redisReserved, queueDepth };
  }

  /** Redis' holders: written, and reserved or pending (owed a unit) alike. */
  holdersIfAtMost(couponId: number, atMost: number): Promise<Set<number> | undefined> {
    return this.reservations.holdersIfAtMost(couponId, atMost);
  }

  async reconcile(couponId: number): Promise<void> {
    await this.rebuilder.rebuild(couponId, 'replace');
  }

  dependencies(): DependencyProbe[] {
    return [
      redisProbe(this.redis),
      // queue: reachable, with its backlog and consumers (workers may live in other processes)
      { name: 'queue', check: async () => ({ depth: await this.queue.depth(), workers: await this.queue.workers() }) },
    ];
  }
}
