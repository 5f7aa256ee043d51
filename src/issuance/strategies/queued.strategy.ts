import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import Redis from 'ioredis';
import { Counter, Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { CouponsService } from '../../coupons/coupons.service';
import { MetricsService } from '../../metrics/metrics.service';
import { REDIS } from '../../redis/redis.module';
import { IssueWriter } from '../issue-writer';
import { IssueStore } from '../issue.store';
import { IssueQueue } from '../queue/issue-queue';
import { IssueProcessor } from '../queue/issue.processor';
import { PendingSweeper } from '../queue/pending-sweeper';
import { ReservationStore } from '../reservation/reservation.store';
import { verdictRefusal } from '../reservation/verdict';
import { DependencyProbe, IssuanceStrategy, redisProbe, IssueOutcome, IssueState, StrategyStats } from './issuance.strategy';

const SWEEP_EVERY_MS = 2000;
const SWEEP_GRACE_MS = 5000;

/**
 * `queue`: the API only accepts. The same atomic Lua step as `redis` reserves the unit and records
 * the request as pending, then a BullMQ job (ids only) is added, and the answer is 202. Workers
 * (RUN_WORKER in the API, or `npm run start:worker` processes) write the rows in batches and
 * settle each request to ISSUED, or to REJECTED with its unit given back.
 *
 * The promise of a 202: the reservation and its pending record are one atomic write to Redis. With
 * append-only persistence they survive a Redis restart, and they are settled only after PostgreSQL
 * has committed or refused. Between those points, any single crash is recovered: a worker killed
 * mid-batch has its jobs redelivered, and the writes are idempotent; an API killed between reserve
 * and enqueue leaves a pending record without a job, which the sweeper enqueues again after
 * SWEEP_GRACE_MS.
 */
@Injectable()
export class QueuedStrategy extends IssuanceStrategy implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  readonly name = 'queue' as const;
  private queue!: IssueQueue;
  private processor?: IssueProcessor;
  private sweeper?: PendingSweeper;
  private workerConnection?: Redis;
  private settled!: Counter<'result'>;

  constructor(
    private readonly reservations: ReservationStore,
    private readonly writer: IssueWriter,
    private readonly issues: IssueStore,
    private readonly coupons: CouponsService,
    private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: Redis,
    @InjectDataSource() private readonly db: DataSource,
    private readonly metrics: MetricsService,
  ) {
    super();
  }

  onModuleInit(): void {
    this.queue = new IssueQueue(this.redis, this.reservations);
    this.coupons.onChange((change) => this.reservations.follow(change));
    const queue = this.queue;
    new Gauge({
      name: 'coupon_issue_queue_depth',
      help: 'Issue jobs not finished yet (waiting, active, delayed)',
      registers: [this.metrics.registry],
      async collect() {
        this.set(await queue.depth().catch(() => -1));
      },
    });
    this.settled = new Counter({
      name: 'coupon_issue_queue_settled_total',
      help: 'Accepted requests this process wrote and settled, by result (issued, rejected): rate() is the drain rate',
      labelNames: ['result'] as const,
      registers: [this.metrics.registry],
    });
  }

  /** Consumes the queue in this process when RUN_WORKER (always, in a worker process). */
  onApplicationBootstrap(): void {
    if (!this.config.runWorker) return;
    // BullMQ's blocking reads need a connection that waits instead of failing fast
    this.workerConnection = new Redis(this.config.redisUrl!, { maxRetriesPerRequest: null, connectionName: 'coupon-worker' });
    this.processor = new IssueProcessor(this.writer, this.reservations, this.issues, this.settled);
    this.processor.start(this.workerConnection, { concurrency: this.config.workerConcurrency });
    this.sweeper = new PendingSweeper(this.db, this.reservations, this.queue, this.processor, { everyMs: SWEEP_EVERY_MS, graceMs: SWEEP_GRACE_MS });
    this.sweeper.start();
  }

  /** Graceful: stop sweeping, finish the jobs in hand, then close the queue. */
  async onApplicationShutdown(): Promise<void> {
    await this.sweeper?.stop();
    await this.processor?.close();
    // disconnect rather than QUIT: QUIT waits for an answer a dead Redis never gives
    this.workerConnection?.disconnect();
    await Promise.race([this.queue?.close(), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
  }

  async issue(couponId: number, userId: number): Promise<IssueOutcome> {
    const verdict = await this.reservations.reserve(couponId, userId, { recordPending: true });
    if (verdict !== 'OK') throw verdictRefusal(couponId, verdict);
    // If this fails (Redis gone mid-way), the request stays pending and the sweeper enqueues it:
    // the caller gets a 503 now and may find it ISSUED later, which is what an unknown outcome means.
    await this.queue.add(couponId, userId);
    return { status: 'PENDING', couponId };
  }

  /**
   * Pending is asked first, of Redis alone: most polls come while a request is pending, and they
   * are answered even while PostgreSQL is down. A request leaves pending only after its row is
   * committed (or refused), so once it is not pending the row, if any, is there to be found.
   */
  async state(couponId: number, userId: number): Promise<IssueState | undefined> {
    if (await this.reservations.isPending(couponId, userId)) return { status: 'PENDING' };
    const issue = await this.issues.findHeld(couponId, userId);
    if (issue) return { status: 'ISSUED', issue };
    const reason = await this.reservations.rejection(couponId, userId);
    return reason ? { status: 'REJECTED', reason } : undefined;
  }

  async stats(couponId: number): Promise<StrategyStats> {
    const [pending, redisReserved, queueDepth] = await Promise.all([
      this.reservations.pendingCount(couponId),
      this.reservations.taken(couponId),
      this.queue.depth(),
    ]);
    return { pending, redisReserved, queueDepth };
  }

  async reconcile(couponId: number): Promise<void> {
    await this.reservations.rebuild(couponId, 'replace');
  }

  dependencies(): DependencyProbe[] {
    return [
      redisProbe(this.redis),
      // queue: reachable, with its backlog and consumers (workers may live in other processes)
      { name: 'queue', check: async () => ({ depth: await this.queue.depth(), workers: await this.queue.workers() }) },
    ];
  }

  /** For tests and operators: one sweep now. */
  sweepNow(): Promise<number> {
    return this.sweeper ? this.sweeper.sweep() : Promise.resolve(0);
  }
}
