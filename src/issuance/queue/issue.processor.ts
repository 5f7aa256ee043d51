import type { RedisClient } from '../../redis/redis.module';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { Worker } from 'bullmq';
import type { Counter } from 'prom-client';
import type { KeyedBatcher } from '../../common/keyed-batcher';
import { settledWithin } from '../../common/settled-within';
import { IssueCanceller } from '../issue-canceller';
import { IssueWriter, WriteRequest, WriteResult } from '../issue-writer';
import { IssueStore } from '../issue.store';
import { ISSUE_QUEUE, IssueJob } from './issue-queue';
import { Refusal, refusalError } from '../refusal';
import { PendingRequests } from '../reservation/pending-requests';
import { ReservationStore } from '../reservation/reservation.store';
import type { Written } from '../reservation/written';
import { ReservedCancellation } from '../reservation/reserved-cancellation';
import { ReplicaConfirmation } from '../reservation/replica-confirmation';

/** The Redis connection of BullMQ's worker (blocking reads: it waits rather than fail fast). */
export const WORKER_CONNECTION = Symbol('WORKER_CONNECTION');
/** Requests settled by this process, by result: the queue's drain rate is its rate(). */
export const SETTLED_COUNTER = Symbol('SETTLED_COUNTER');

/**
 * Requests of one coupon written by one statement at most, and waiting for one at most. Every one
 * was decided when it was accepted (its 202), so the writer honours it whatever the coupon's
 * window or status is by now.
 */
const WRITE_LIMITS = { maxBatch: 5000, maxQueued: 1_000_000, accepted: true };

/**
 * Why the user of this write ends without the coupon, or undefined when they hold it: written now,
 * or written before (a redelivered job, ALREADY_ISSUED).
 */
const refusalOf = (result: WriteResult): Refusal | undefined => (result.kind === 'refused' && result.refusal !== 'ALREADY_ISSUED' ? result.refusal : undefined);

export interface ProcessorOptions {
  /** Jobs (each a batch of requests) one process handles at once, per shard. */
  concurrency: number;
  /** The queue's shards (QueueShards.prefixes): every worker process consumes all of them. */
  prefixes: readonly string[];
}

/**
 * Consumer side: turns accepted requests into rows. A job is already a batch, and the jobs of one
 * coupon that a worker holds at once meet again in a per-coupon batcher. So one statement
 * (multi-row insert, one counter update) writes them all.
 *
 * Everything here may run twice (BullMQ is at-least-once: a worker killed mid-batch has its jobs
 * redelivered), and every step is idempotent. The insert is ON CONFLICT DO NOTHING, and a user
 * found already holding the coupon is settled as issued. A refusal releases the unit and records
 * why, and releasing twice is a no-op.
 */
@Injectable()
export class IssueProcessor {
  private readonly logger = new Logger(IssueProcessor.name);
  private workers: Worker<IssueJob, void>[] = [];
  private readonly writes: KeyedBatcher<number, WriteRequest, WriteResult>;
  private readonly cancellation: ReservedCancellation;

  constructor(
    writer: IssueWriter,
    private readonly reservations: ReservationStore,
    private readonly pending: PendingRequests,
    private readonly issues: IssueStore,
    canceller: IssueCanceller,
    replicas: ReplicaConfirmation,
    @Inject(SETTLED_COUNTER) private readonly settled: Counter<'result'>,
  ) {
    this.writes = writer.batcher(WRITE_LIMITS);
    this.cancellation = new ReservedCancellation(reservations, pending, canceller, replicas, issues, (couponId, userId) =>
      this.process({ couponId, userIds: [userId] }),
    );
  }

  /** One BullMQ worker per shard; the jobs of all of them meet in the per-coupon write batcher. */
  start(connection: RedisClient, { concurrency, prefixes }: ProcessorOptions): void {
    this.workers = prefixes.map((prefix) => this.consume(connection, prefix, concurrency));
  }

  private consume(connection: RedisClient, prefix: string, concurrency: number): Worker<IssueJob, void> {
    const worker = new Worker<IssueJob, void>(ISSUE_QUEUE, (job) => this.process(job.data, job.timestamp, job.id), {
      connection,
      prefix,
      concurrency,
      // a killed worker's jobs are redelivered within seconds, not the default half-minute
      lockDuration: 10_000,
      stalledInterval: 3_000,
      maxStalledCount: 10,
    });
    worker.on('failed', (job, error) => {
      if (!job) return;
      if (job.attemptsMade >= (job.opts.attempts ?? 1)) {
        this.logger.warn(`job ${job.id} gave up after ${job.attemptsMade} attempts: ${error.message}`);
        void this.settleGivenUp(job.data, job.id).catch((e) => this.logger.warn(`could not settle job ${job.id}: ${(e as Error).message}`));
      }
    });
    worker.on('error', (error) => this.logger.warn(`worker ${prefix}: ${error.message}`));
    return worker;
  }

  /**
   * Writes one job's requests and settles each: ISSUED, or REJECTED with its unit given back. A
   * request withdrawn meanwhile (DELETE /coupons/:id/issue while pending) has its row taken back
   * and its unit returned instead (settleWritten).
   */
  async process({ couponId, userIds: carried, requestStamps }: IssueJob, enqueuedAt = Date.now(), jobId?: string): Promise<void> {
    // only the requests still the job's: one settled already (a job redelivered after its work was
    // done) written again would hold, until taken back, a unit PostgreSQL owes another 202
    const marks = await this.pending.forJob(couponId, carried, jobId);
    // each request's stamp, on the coupon's Redis clock: the job's copy, else Redis' (a job queued
    // before jobs carried them), else the job's own time (the clock of the API that queued it)
    const requests = carried
      .map((userId, i) => ({ userId, requestStamp: requestStamps?.[i] ?? marks[i].acceptedAt ?? enqueuedAt, mark: marks[i].mark }))
      .filter((_, i) => marks[i].mine);
    const userIds = requests.map((r) => r.userId);
    const results = await Promise.all(requests.map(({ userId, requestStamp }) => this.writes.submit(couponId, { userId, requestStamp })));
    const written: Written[] = [];
    for (const [i, result] of results.entries()) {
      const refusal = refusalOf(result);
      if (refusal) await this.refused(couponId, requests[i], refusalError(couponId, refusal).code);
      else written.push({ userId: userIds[i], inserted: result.kind === 'issued', requestStamp: requests[i].requestStamp });
    }
    const kept = await this.cancellation.settleWritten(couponId, written);
    this.settled.inc({ result: 'issued' }, kept.size);
    if (kept.size < userIds.length) this.settled.inc({ result: 'rejected' }, userIds.length - kept.size);
  }

  /**
   * A refused request's unit goes back, and why is recorded; only while it is still the request
   * pending (its mark as read): the user may have withdrawn it and asked anew meanwhile, and that
   * new request keeps its unit and its promise. Without a mark (Redis had lost the request when
   * the job read it), Redis holds no unit of this request: any it holds now is another's.
   */
  private async refused(couponId: number, request: { userId: number; mark?: string }, code: string): Promise<void> {
    if (request.mark) await this.reservations.releaseIfStill(couponId, request.userId, request.mark, code);
  }

  /**
   * Attempts exhausted: whoever PostgreSQL has a row for was issued; the others' units go back,
   * each only if its pending request is still the one that failed (`markOf`: its mark as read, or
   * undefined when it is another request by now). A newer request of the same user is left alone.
   */
  async settleFailed({ couponId, userIds }: IssueJob, markOf: (userId: number) => string | undefined): Promise<void> {
    for (const userId of userIds) {
      const mark = markOf(userId);
      if (await this.issues.findHeld(couponId, userId)) await this.cancellation.settleWritten(couponId, [{ userId, inserted: false }]);
      else if (mark) await this.reservations.releaseIfStill(couponId, userId, mark, 'UNAVAILABLE');
    }
  }

  /** settleFailed for a job BullMQ gave up on: its requests are those still marked with its id. */
  private async settleGivenUp(job: IssueJob, jobId: string | undefined): Promise<void> {
    const pending = await this.pending.all(job.couponId);
    await this.settleFailed(job, (userId) => {
      const request = pending.get(userId);
      return request && request.jobId === jobId ? request.mark : undefined;
    });
  }

  /**
   * Finishes the jobs in hand (graceful shutdown), then stops; after `deadlineMs` (Redis gone, a
   * write stuck) it stops anyway. A job cut off that way is redelivered to another worker, and
   * writing it again is idempotent.
   */
  async close(deadlineMs = 10_000): Promise<void> {
    if (!this.workers.length) return;
    if ((await settledWithin(Promise.all(this.workers.map((w) => w.close())), deadlineMs)) === 'late') {
      this.logger.warn(`jobs still in hand after ${deadlineMs} ms: stopping without them (they will be redelivered)`);
      for (const worker of this.workers) void worker.close(true).catch(() => undefined);
    }
  }
}
