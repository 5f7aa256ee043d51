import { Injectable, Logger } from '@nestjs/common';
import { RepeatingPass } from '../../common/repeating-pass';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { IssueQueue } from './issue-queue';
import { PendingRequests } from '../reservation/pending-requests';
import { couponsInUse } from '../reservation/repair-reads';
import { IssueProcessor } from './issue.processor';

const SWEEP_EVERY_MS = 2000;
/**
 * A pending request younger than this is left alone: its job is probably on its way. Short, so a
 * request whose enqueue failed (a 503 after its reservation, Redis failing over) is written within
 * seconds; a job added by the sweeper beside one still on its way is harmless, since a worker
 * writes only the requests still marked with its own job (IssueProcessor).
 */
const SWEEP_GRACE_MS = 2000;

/**
 * Keeps the promise of a 202. The reservation script records every accepted request as pending
 * in the same atomic step that reserves it, and a request stays pending until a worker settles it.
 * So a request whose job is gone can always be found: the API may have died before giving it a
 * job, or the job may have vanished (a worker died after its commit but before settling, and the
 * finished job was removed). The sweeper enqueues such requests again and settles those whose job
 * gave up. Running it in several workers at once is safe: writing and settling are idempotent.
 */
@Injectable()
export class PendingSweeper {
  private readonly logger = new Logger(PendingSweeper.name);
  private readonly passes = new RepeatingPass(
    SWEEP_EVERY_MS,
    async () => {
      const n = await this.sweep();
      if (n) this.logger.warn(`re-enqueued ${n} accepted requests that had no job`);
    },
    (error) => this.logger.warn(`sweep failed: ${error.message}`),
  );

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly pending: PendingRequests,
    private readonly queue: IssueQueue,
    private readonly processor: IssueProcessor,
  ) {}

  start(): void {
    this.passes.start();
  }

  /** One pass; returns how many requests were enqueued again. */
  async sweep(): Promise<number> {
    const cutoff = Date.now() - SWEEP_GRACE_MS;
    let requeued = 0;
    for (const couponId of await couponsInUse(this.db)) {
      // what is read here may be stale by the time it is acted on: each act is a compare-and-set
      // on the request's mark as read, so a request settled, withdrawn or asked anew meanwhile is left alone
      const orphans = new Map<number, string>();
      const jobs = new Map<string, Promise<'missing' | 'failed' | 'live'>>();
      for (const [userId, { acceptedAt, jobId, mark }] of await this.pending.all(couponId)) {
        if (acceptedAt > cutoff) continue;
        if (!jobId) {
          orphans.set(userId, mark); // accepted, never given a job
          continue;
        }
        if (!jobs.has(jobId)) jobs.set(jobId, this.queue.jobState(couponId, jobId));
        const state = await jobs.get(jobId)!;
        if (state === 'missing') orphans.set(userId, mark);
        else if (state === 'failed') await this.processor.settleFailed({ couponId, userIds: [userId] }, () => mark);
      }
      if (orphans.size) requeued += await this.queue.enqueue(couponId, [...orphans.keys()], orphans);
    }
    return requeued;
  }

  stop(): Promise<void> {
    return this.passes.stop();
  }
}
