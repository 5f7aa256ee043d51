import type { RedisClient } from '../redis/redis.module';
import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { IssuanceConfig } from '../config/issuance.config';
import { IssueQueue } from '../issuance/queue/issue-queue';
import { IssueProcessor, WORKER_CONNECTION } from '../issuance/queue/issue.processor';
import { PendingSweeper } from '../issuance/queue/pending-sweeper';

/**
 * Starts consuming once the application is up, and stops in order on shutdown: no new sweeps,
 * the jobs in hand finished (bounded), then the connections. It stops before any module closes
 * its own resources (`beforeApplicationShutdown`), so the jobs in hand still have Redis and
 * PostgreSQL to finish with.
 */
@Injectable()
export class QueueWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('QueueWorker');

  constructor(
    private readonly config: IssuanceConfig,
    private readonly processor: IssueProcessor,
    private readonly sweeper: PendingSweeper,
    private readonly queue: IssueQueue,
    @Inject(WORKER_CONNECTION) private readonly connection: RedisClient,
  ) {}

  onApplicationBootstrap(): void {
    const { shards } = this.queue;
    this.processor.start(this.connection, { concurrency: this.config.workerConcurrency, prefixes: shards.prefixes });
    this.sweeper.start();
    this.logger.log(`consuming the issue queue: ${shards.count} shard(s), concurrency ${this.config.workerConcurrency} each`);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.sweeper.stop();
    await this.processor.close();
    // disconnect rather than QUIT: QUIT waits for an answer a dead Redis never gives
    this.connection.disconnect();
  }
}
