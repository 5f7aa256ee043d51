import { Logger } from '@nestjs/common';
import { Worker } from 'bullmq';
import type Redis from 'ioredis';
import { unavailable } from '../../common/errors/domain.error';
import { KeyedBatcher } from '../../common/keyed-batcher';
import { IssueWriter, WriteResult, writeRefusal } from '../issue-writer';
import { IssueStore } from '../issue.store';
import { ReservationStore } from '../reservation/reservation.store';
import { ISSUE_QUEUE, IssueJob, QUEUE_PREFIX } from './issue-queue';

export interface ProcessorOptions {
  /** Jobs one process handles at once; they meet in the write batcher, so this is the batch size's ceiling. */
  concurrency: number;
}

/**
 * Consumer side: turns accepted requests into rows. Each job waits in a per-coupon batcher, so the
 * jobs a worker holds at once are written by one statement (multi-row insert, one counter update).
 *
 * Everything here may run twice (BullMQ is at-least-once: a worker killed mid-batch has its jobs
 * redelivered), and every step is idempotent. The insert is ON CONFLICT DO NOTHING, and a user
 * found already holding the coupon is settled as issued. A refusal releases the unit and records
 * why, and releasing twice is a no-op.
 */
export class IssueProcessor {
  private readonly logger = new Logger(IssueProcessor.name);
  private worker?: Worker<IssueJob, string>;
  private readonly writes = new KeyedBatcher<number, number, WriteResult>(
    async (couponId, userIds) => (await this.writer.write(couponId, userIds)).map((value) => ({ ok: true, value })),
    { maxBatch: 1000, maxQueued: 100_000, overflow: () => unavailable('write backlog full') },
  );

  constructor(
    private readonly writer: IssueWriter,
    private readonly reservations: ReservationStore,
    private readonly issues: IssueStore,
  ) {}

  start(connection: Redis, { concurrency }: ProcessorOptions): void {
    this.worker = new Worker<IssueJob, string>(ISSUE_QUEUE, (job) => this.process(job.data), {
      connection,
      prefix: QUEUE_PREFIX,
      concurrency,
      // a killed worker's jobs are redelivered within seconds, not the default half-minute
      lockDuration: 10_000,
      stalledInterval: 3_000,
      maxStalledCount: 10,
    });
    this.worker.on('failed', (job, error) => {
      if (!job) return;
      if (job.attemptsMade >= (job.opts.attempts ?? 1)) {
        this.logger.warn(`job ${job.id} gave up after ${job.attemptsMade} attempts: ${error.message}`);
        void this.settleFailed(job.data).catch((e) => this.logger.warn(`could not settle job ${job.id}: ${(e as Error).message}`));
      }
    });
    this.worker.on('error', (error) => this.logger.warn(`worker: ${error.message}`));
  }

  /** Writes one accepted request (batched with the others of its coupon); returns how it ended. */
  async process({ couponId, userId }: IssueJob): Promise<string> {
    const result = await this.writes.submit(couponId, userId);
    if (result.kind === 'issued' || result.kind === 'held') {
      await this.reservations.settleIssued(couponId, userId);
      return 'ISSUED';
    }
    await this.reservations.release(couponId, userId, { rejectedBecause: writeRefusal(couponId, result).code });
    return 'REJECTED';
  }

  /** Attempts exhausted: if PostgreSQL has the row it was issued; otherwise the unit goes back. */
  async settleFailed({ couponId, userId }: IssueJob): Promise<void> {
    if (await this.issues.findHeld(couponId, userId)) await this.reservations.settleIssued(couponId, userId);
    else await this.reservations.release(couponId, userId, { rejectedBecause: 'UNAVAILABLE' });
  }

  /** Finishes the jobs in hand (graceful shutdown), then stops. */
  async close(): Promise<void> {
    await this.worker?.close();
  }
}
