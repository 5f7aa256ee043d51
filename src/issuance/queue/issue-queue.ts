import type { RedisClient } from '../../redis/redis.module';
import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { Queue } from 'bullmq';
import { unavailable } from '../../common/errors/domain.error';
import { KeyedBatcher } from '../../common/keyed-batcher';
import { ReservationStore } from '../reservation/reservation.store';

export const ISSUE_QUEUE = 'coupon-issue';
/** A hash tag keeps all of BullMQ's keys in one Redis Cluster slot, which its scripts need. */
export const QUEUE_PREFIX = '{coupon-issue}';

/** Ids only: the accepted requests of one coupon, written together by one worker statement. */
export interface IssueJob {
  couponId: number;
  userIds: number[];
}

const ISSUE_JOB_ATTEMPTS = 8;
/** Accepted requests of one coupon carried by one job at most, and waiting for one at most (then 503). */
const REQUESTS_PER_JOB = 2000;
const MAX_WAITING_FOR_A_JOB = 100_000;
const JOB_OPTIONS = {
  attempts: ISSUE_JOB_ATTEMPTS,
  backoff: { type: 'exponential', delay: 250 },
  removeOnComplete: true,
  removeOnFail: { age: 24 * 3600 },
};

/**
 * Producer side. Requests of a coupon accepted while its previous job is being added go into the
 * next job together (group commit once more). The accept path then costs one BullMQ job per
 * batch, not per request: a job's own bookkeeping (several Lua scripts as it moves through the
 * queue) is what capped a job-per-request design.
 *
 * Each pending request is marked with its job's id *before* the job is added. A crash in between
 * leaves marks that point at no job, and the sweeper enqueues those requests again.
 */
export class IssueQueue {
  private readonly logger = new Logger(IssueQueue.name);
  readonly queue: Queue<IssueJob>;
  private readonly batcher = new KeyedBatcher<number, number, void>(
    async (couponId, userIds) => {
      // a 202 is promised only once a replica holds the reservations (on a cluster with replicas):
      // otherwise 503, and the requests stay pending, so the sweeper enqueues them; nothing is lost
      if (!(await this.reservations.replicated(couponId))) throw unavailable('the request is not yet held by a Redis replica; ask again');
      await this.enqueue(couponId, userIds);
      return userIds.map(() => ({ ok: true, value: undefined }));
    },
    { maxBatch: REQUESTS_PER_JOB, maxQueued: MAX_WAITING_FOR_A_JOB, overflow: () => unavailable('too many requests waiting to be queued') },
  );

  constructor(
    connection: RedisClient,
    private readonly reservations: ReservationStore,
  ) {
    this.queue = new Queue<IssueJob>(ISSUE_QUEUE, { connection, prefix: QUEUE_PREFIX });
    // an 'error' event without a listener would crash the process; a Redis outage is a 503, not a crash
    this.queue.on('error', (error) => this.logger.warn(`queue: ${error.message}`));
  }

  /** Resolves once the user's request is in a job stored in Redis. */
  add(couponId: number, userId: number): Promise<void> {
    return this.batcher.submit(couponId, userId);
  }

  /** One job for these requests now (also the sweeper's re-enqueue). */
  async enqueue(couponId: number, userIds: number[]): Promise<void> {
    const jobId = randomUUID();
    await this.reservations.markQueued(couponId, userIds, jobId);
    await this.queue.add('issue', { couponId, userIds }, { ...JOB_OPTIONS, jobId });
  }

  /** 'missing', 'failed' (attempts exhausted) or 'live' (waiting, active, delayed, ...). */
  async jobState(jobId: string): Promise<'missing' | 'failed' | 'live'> {
    const job = await this.queue.getJob(jobId);
    if (!job) return 'missing';
    return (await job.isFailed()) ? 'failed' : 'live';
  }

  /** Processes consuming the queue now (BullMQ names its worker connections). */
  async workers(): Promise<number> {
    return this.queue.getWorkersCount();
  }

  /** Jobs not finished yet (waiting, active, delayed, prioritized). */
  async depth(): Promise<number> {
    const counts = await this.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
    return Object.values(counts).reduce((a, b) => a + b, 0);
  }

  /** Bounded: closing waits for Redis, which may be the thing that is gone. */
  async close(withinMs = 2000): Promise<void> {
    await Promise.race([this.queue.close(), new Promise((resolve) => setTimeout(resolve, withinMs).unref())]);
  }
}
