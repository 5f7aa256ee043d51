import { Module } from '@nestjs/common';
import { EventFeedModule } from '../events/events.module';
import { WebhookDeliveries } from './webhook-deliveries';
import { WebhookDispatcher } from './webhook-dispatcher';
import { WebhookHistoryPurge } from './webhook-history-purge';
import { WebhooksController } from './webhooks.controller';
import { WebhooksService } from './webhooks.service';

/** The admin's routes for webhook endpoints (in every API process). */
@Module({
  imports: [EventFeedModule],
  controllers: [WebhooksController],
  providers: [WebhooksService],
})
export class WebhooksModule {}

/**
 * Sending them, and purging their history: in the process that runs the strategy's background work
 * (the API for `pessimistic` and `redis`, QueueWorkerModule's for `queue`). It needs nothing but PostgreSQL.
 */
@Module({
  imports: [EventFeedModule],
  providers: [WebhookDeliveries, WebhookDispatcher, WebhookHistoryPurge],
})
export class WebhookDeliveryModule {}
