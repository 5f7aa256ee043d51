import type { RedisClient } from '../../redis/redis.module';
import { randomUUID } from 'node:crypto';
import { Logger, OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import { unavailable } from '../../common/errors/domain.error';
import { KeyedBatcher } from '../../common/keyed-batcher';
import { settledWithin } from '../../common/settled-within';
import { PendingRequests } from '../reservation/pending-requests';
import { ReplicaConfirmation } from '../reservation/replica-confirmation';
import { QueueShards } from './queue-shards';

/** The queue's name inside each shard; the shard is the prefix, a hash tag (see QueueShards). */
export const ISSUE_QUEUE = 'coupon-issue';

/**
 * The accepted requests of one coupon, written together by one worker statement: their users, and
 * each one's stamp (reserve.lua's, ms; absent in a job queued before stamps were carried), which
 * names the request in PostgreSQL even after Redis has forgotten it.
 */
export interface IssueJob {
  couponId: number;
  userIds: number[];
  requestStamps?: number[];
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
export class IssueQueue implements OnApplicationShutdown {
  private readonly logger = new Logger(IssueQueue.name);
  private readonly queues: Queue<IssueJob>[];
  private readonly batcher = new KeyedBatcher<number, number, void>(
    async (couponId, userIds) => {
      // a 202 is promised only once a replica holds the reservations (on a cluster with replicas):
      // otherwise 503, and the requests stay pending, so the sweeper enqueues them; nothing is lost
      if (!(await this.replicas.replicated(couponId))) throw unavailable('the request is not yet held by a Redis replica; ask again');
      await this.enqueue(couponId, userIds);
      return userIds.map(() => ({ ok: true, value: undefined }));
    },
    { maxBatch: REQUESTS_PER_JOB, maxQueued: MAX_WAITING_FOR_A_JOB, overflow: () => unavailable('too many requests waiting to be queued') },
  );

  constructor(
    connection: RedisClient,
    private readonly pending: PendingRequests,
    private readonly replicas: ReplicaConfirmation,
    readonly shards: QueueShards,
  ) {
    this.queues = shards.prefixes.map((prefix) => {
      const queue = new Queue<IssueJob>(ISSUE_QUEUE, { connection, prefix });
      // an 'error' event without a listener would crash the process; a Redis outage is a 503, not a crash
      queue.on('error', (error) => this.logger.warn(`queue ${prefix}: ${error.message}`));
      return queue;
    });
  }

  private queueOf(couponId: number): Queue<IssueJob> {
    return this.queues[this.shards.of(couponId)];
  }

  /** Resolves once the user's request is in a job stored in Redis. */
  add(couponId: number, userId: number): Promise<void> {
    return this.batcher.submit(couponId, userId);
  }

  /**
   * One job for these requests now, those still pending (and, for the sweeper's re-enqueue, as it
   * read them: `expected` marks); returns how many it carries.
   */
  async enqueue(couponId: number, userIds: number[], expected?: Map<number, string>): Promise<number> {
    const jobId = randomUUID();
    const marked = await this.pending.markQueued(couponId, userIds, jobId, expected);
    const job: IssueJob = { couponId, userIds: marked.map((r) => r.userId), requestStamps: marked.map((r) => r.requestStamp) };
    if (marked.length) await this.queueOf(couponId).add('issue', job, { ...JOB_OPTIONS, jobId });
    return marked.length;
  }

  /** 'missing', 'failed' (attempts exhausted) or 'live' (waiting, active, delayed, ...). */
  async jobState(couponId: number, jobId: string): Promise<'missing' | 'failed' | 'live'> {
    const job = await this.queueOf(couponId).getJob(jobId);
    if (!job) return 'missing';
    return (await job.isFailed()) ? 'failed' : 'live';
  }

  /**
   * Processes consuming every shard now (BullMQ names its worker connections): the fewest on any
   * shard, since a shard nobody consumes strands its coupons however many consume the others.
   */
  async workers(): Promise<number> {
    return Math.min(...(await Promise.all(this.queues.map((q) => q.getWorkersCount()))));
  }

  /** Jobs not finished yet (waiting, active, delayed, prioritized), over all shards. */
  async depth(): Promise<number> {
    const depths = await Promise.all(this.queues.map((q) => q.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children')));
    return depths.flatMap((counts) => Object.values(counts)).reduce((a, b) => a + b, 0);
  }

  onApplicationShutdown(): Promise<void> {
    return this.close();
  }

  /** Bounded: closing waits for Redis, which may be the thing that is gone. */
  async close(withinMs = 2000): Promise<void> {
    await settledWithin(Promise.all(this.queues.map((q) => q.close())), withinMs);
  }
}
