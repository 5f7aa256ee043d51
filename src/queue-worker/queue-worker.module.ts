import { DynamicModule, Module } from '@nestjs/common';
import { Counter } from 'prom-client';
import { AppConfig } from '../config/app-config';
import { AppConfigModule } from '../config/config.module';
import { DatabaseModule } from '../database/database.module';
import { IssuanceCoreModule } from '../issuance/issuance-core.module';
import { IssueQueue } from '../issuance/queue/issue-queue';
import { queueShardsFor } from '../issuance/queue/queue-shards';
import { ReservationModule } from '../issuance/reservation/reservation.module';
import { PendingRequests } from '../issuance/reservation/pending-requests';
import { ReplicaConfirmation } from '../issuance/reservation/replica-confirmation';
import { MetricsModule } from '../metrics/metrics.module';
import { MetricsService } from '../metrics/metrics.service';
import { createWorkerConnection, REDIS, type RedisClient, RedisModule } from '../redis/redis.module';
import { IssueProcessor, SETTLED_COUNTER, WORKER_CONNECTION } from './issue.processor';
import { PendingSweeper } from './pending-sweeper';
import { QueueWorker } from './queue-worker';

/**
 * The consumer side of the `queue` strategy: the processor that writes accepted requests, the
 * sweeper that keeps the promise of a 202, and the Redis connection their blocking reads need.
 * `worker.ts` boots `forWorkerProcess()` (no HTTP, no guards, no controllers); an API process
 * with RUN_WORKER imports the module beside the rest of the application.
 */
@Module({
  imports: [IssuanceCoreModule, ReservationModule],
  providers: [
    {
      provide: IssueQueue,
      inject: [REDIS, PendingRequests, ReplicaConfirmation, AppConfig],
      useFactory: (redis: RedisClient, pending: PendingRequests, replicas: ReplicaConfirmation, config: AppConfig) =>
        new IssueQueue(redis, pending, replicas, queueShardsFor(config.queueShards, redis)),
    },
    {
      // BullMQ's blocking reads need a connection that waits instead of failing fast
      provide: WORKER_CONNECTION,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => createWorkerConnection(config.redis!, 'coupon-worker'),
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
    return {
      module: QueueWorkerProcessModule,
      imports: [
        AppConfigModule.forRoot(config),
        DatabaseModule,
        RedisModule.forRoot({ endpoint: config.redis!, warnIfNotDurable: true }),
        MetricsModule,
        QueueWorkerModule,
      ],
    };
  }
}

@Module({})
class QueueWorkerProcessModule {}
