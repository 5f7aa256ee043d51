import { Queue } from 'bullmq';
import type Redis from 'ioredis';
import { unavailable } from '../../common/errors/domain.error';
import { KeyedBatcher } from '../../common/keyed-batcher';

export const ISSUE_QUEUE = 'coupon-issue';
/** A hash tag keeps all of BullMQ's keys in one Redis Cluster slot, which its scripts need. */
export const QUEUE_PREFIX = '{coupon-issue}';

/** Ids only: the worker reads everything else from PostgreSQL and Redis. */
export interface IssueJob {
  couponId: number;
  userId: number;
}

/** One job per (coupon, user): a repeated add while the job exists is a no-op. */
export const issueJobId = (couponId: number, userId: number) => `${couponId}-${userId}`;

export const ISSUE_JOB_ATTEMPTS = 8;
const JOB_OPTIONS = {
  attempts: ISSUE_JOB_ATTEMPTS,
  backoff: { type: 'exponential', delay: 250 },
  removeOnComplete: true,
  removeOnFail: { age: 24 * 3600 },
};

/**
 * Producer side: adds jobs in bulk. Jobs accepted while one addBulk is in flight go into the next
 * (group commit again), so the accept path costs one BullMQ script call per batch, not per request.
 */
export class IssueQueue {
  readonly queue: Queue<IssueJob>;
  private readonly adder = new KeyedBatcher<'jobs', IssueJob, void>(
    async (_, jobs) => {
      await this.queue.addBulk(jobs.map((data) => ({ name: 'issue', data, opts: { ...JOB_OPTIONS, jobId: issueJobId(data.couponId, data.userId) } })));
      return jobs.map(() => ({ ok: true, value: undefined }));
    },
    { maxBatch: 1000, maxQueued: 100_000, overflow: () => unavailable('too many requests waiting to be queued') },
  );

  constructor(connection: Redis) {
    this.queue = new Queue<IssueJob>(ISSUE_QUEUE, { connection, prefix: QUEUE_PREFIX });
  }

  /** Resolves once the job is stored in Redis. */
  add(job: IssueJob): Promise<void> {
    return this.adder.submit('jobs', job);
  }

  /** Adds one job now (the sweeper's re-enqueue); a no-op while a job with that id exists. */
  async addOne(job: IssueJob): Promise<void> {
    await this.queue.add('issue', job, { ...JOB_OPTIONS, jobId: issueJobId(job.couponId, job.userId) });
  }

  /** 'missing', 'failed' (attempts exhausted) or 'live' (waiting, active, delayed, ...). */
  async jobState(couponId: number, userId: number): Promise<'missing' | 'failed' | 'live'> {
    const job = await this.queue.getJob(issueJobId(couponId, userId));
    if (!job) return 'missing';
    return (await job.isFailed()) ? 'failed' : 'live';
  }

  /** Jobs not finished yet (waiting, active, delayed, prioritized). */
  async depth(): Promise<number> {
    const counts = await this.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
    return Object.values(counts).reduce((a, b) => a + b, 0);
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}
