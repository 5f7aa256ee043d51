import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { ReservationStore } from '../reservation/reservation.store';
import { IssueQueue } from './issue-queue';
import { IssueProcessor } from './issue.processor';

export interface SweeperOptions {
  everyMs: number;
  /** A pending request younger than this is left alone: its job is probably on its way. */
  graceMs: number;
}

/**
 * Keeps the promise of a 202. The reservation script records every accepted request as pending
 * in the same atomic step that reserves it, and a request stays pending until a worker settles it.
 * So a request whose job is gone can always be found: the API may have died between reserving
 * and enqueueing, or the job may have been lost with Redis. The sweeper enqueues such a request
 * again, and settles the ones whose job gave up. Running it in several workers at once is safe:
 * job ids dedupe, and settling is idempotent.
 */
export class PendingSweeper {
  private readonly logger = new Logger(PendingSweeper.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(
    private readonly db: DataSource,
    private readonly reservations: ReservationStore,
    private readonly queue: IssueQueue,
    private readonly processor: IssueProcessor,
    private readonly options: SweeperOptions,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.sweep()
        .then((n) => n && this.logger.warn(`re-enqueued ${n} accepted requests that had no job`))
        .catch((error) => this.logger.warn(`sweep failed: ${(error as Error).message}`))
        .finally(() => (this.running = undefined));
    }, this.options.everyMs);
    this.timer.unref();
  }

  /** One pass; returns how many requests were enqueued again. */
  async sweep(): Promise<number> {
    const coupons = await this.db.query<{ id: number }[]>(
      `SELECT id FROM coupons WHERE status = 'ACTIVE' OR updated_at > now() - interval '1 day'`,
    );
    const cutoff = Date.now() - this.options.graceMs;
    let requeued = 0;
    for (const { id: couponId } of coupons) {
      for (const [userId, acceptedAt] of await this.reservations.pending(couponId)) {
        if (acceptedAt > cutoff) continue;
        const job = await this.queue.jobState(couponId, userId);
        if (job === 'live') continue;
        if (job === 'failed') await this.processor.settleFailed({ couponId, userId });
        else {
          await this.queue.addOne({ couponId, userId });
          requeued++;
        }
      }
    }
    return requeued;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
