import { DynamicModule, Module } from '@nestjs/common';
import { Counter } from 'prom-client';
import { AppConfig } from '../config/app-config';
import { AppConfigModule } from '../config/config.module';
import { DatabaseModule } from '../database/database.module';
import { IssuanceCoreModule } from '../issuance/issuance-core.module';
import { IssueQueueModule } from '../issuance/queue/issue-queue.module';
import { IssueProcessor, SETTLED_COUNTER, WORKER_CONNECTION } from '../issuance/queue/issue.processor';
import { PendingSweeper } from '../issuance/queue/pending-sweeper';
import { ReservationModule } from '../issuance/reservation/reservation.module';
import { MetricsModule } from '../metrics/metrics.module';
import { MetricsService } from '../metrics/metrics.service';
import type { RedisEndpoint } from '../config/endpoints';
import { createWorkerConnection, REDIS_ENDPOINT, RedisModule } from '../redis/redis.module';
import { WebhookDeliveryModule } from '../webhooks/webhooks.module';
import { QueueWorker } from './queue-worker';

/**
 * Boots the consumer side of the `queue` strategy: the processor that writes accepted requests and
 * the sweeper that keeps the promise of a 202 (both in `issuance/queue/`, beside the one producer
 * they share, IssueQueueModule), the Redis connection their blocking reads need, and QueueWorker,
 * which starts and stops them; and the webhooks' delivery, the other background work. `worker.ts` boots `forWorkerProcess()` (no HTTP, no guards, no
 * controllers); an API process with RUN_WORKER imports the module beside the rest of the application.
 */
@Module({
  imports: [IssuanceCoreModule, ReservationModule, IssueQueueModule, WebhookDeliveryModule],
  providers: [
    {
      // BullMQ's blocking reads need a connection that waits instead of failing fast
      provide: WORKER_CONNECTION,
      inject: [REDIS_ENDPOINT],
      useFactory: (endpoint: RedisEndpoint) => createWorkerConnection(endpoint, 'coupon-worker'),
    },
    {
      provide: SETTLED_COUNTER,
      inject: [MetricsService],
      useFactory: (metrics: MetricsService) =>
        new Counter({
          name: 'coupon_issue_queue_settled_total',
          help: 'Accepted requests this process wrote and settled, by result (issued, rejected): rate() is the drain rate',
          labelNames: ['result'] as const,
          registers: [metrics.registry],
        }),
    },
    IssueProcessor,
    PendingSweeper,
    QueueWorker,
  ],
  exports: [PendingSweeper],
})
export class QueueWorkerModule {
  /** A worker process: configuration, PostgreSQL, Redis, metrics and the above; nothing of HTTP. */
  static forWorkerProcess(config: AppConfig): DynamicModule {
    // loadAppConfig requires Redis for the queue strategy, the only one with workers
    if (!config.redis) throw new Error('a queue worker needs Redis (REDIS_URL or REDIS_CLUSTER_NODES)');
    return {
      module: QueueWorkerProcessModule,
      imports: [
        AppConfigModule.forRoot(config),
        DatabaseModule,
        RedisModule.forRoot({ endpoint: config.redis, warnIfNotDurable: true }),
        MetricsModule,
        QueueWorkerModule,
      ],
    };
  }
}

@Module({})
class QueueWorkerProcessModule {}
