import { Global, Module } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { IssuanceConfig } from '../../config/issuance.config';
import { MetricsService } from '../../metrics/metrics.service';
import { REDIS, type RedisClient } from '../../redis/redis.module';
import { PendingRequests } from '../reservation/pending-requests';
import { ReplicaConfirmation } from '../reservation/replica-confirmation';
import { IssueQueue } from './issue-queue';
import { queueShardsFor } from './queue-shards';

/** The producer, with the gauge of the backlog it feeds (every shard's unfinished jobs). */
function issueQueue(redis: RedisClient, pending: PendingRequests, replicas: ReplicaConfirmation, config: IssuanceConfig, metrics: MetricsService): IssueQueue {
  const queue = new IssueQueue(redis, pending, replicas, queueShardsFor(config.queueShards, redis));
  new Gauge({
    name: 'coupon_issue_queue_depth',
    help: 'Issue jobs not finished yet (waiting, active, delayed), over all queue shards',
    registers: [metrics.registry],
    async collect() {
      this.set(await queue.depth().catch(() => -1));
    },
  });
  return queue;
}

/**
 * The one producer of the issue queue: the `queue` strategy adds accepted requests to it, and the
 * worker's sweeper re-adds those that lost their job. Imported by the composition root where the
 * queue is in use (AppModule for `queue`, the worker process), beside ReservationModule; global
 * like it, so that the strategy built from the configuration finds it. It closes on shutdown,
 * after the worker stopped consuming (beforeApplicationShutdown comes first).
 */
@Global()
@Module({
  providers: [
    {
      provide: IssueQueue,
      inject: [REDIS, PendingRequests, ReplicaConfirmation, IssuanceConfig, MetricsService],
      useFactory: issueQueue,
    },
  ],
  exports: [IssueQueue],
})
export class IssueQueueModule {}
