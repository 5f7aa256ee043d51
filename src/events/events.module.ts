import { Module } from '@nestjs/common';
import { EventFeed } from './event-feed';
import { EventsController } from './events.controller';

/** The feed itself: what GET /events and the webhooks' delivery read (the latter in worker processes too). */
@Module({
  providers: [EventFeed],
  exports: [EventFeed],
})
export class EventFeedModule {}

/** The changes of issues as events: written by the statements that make them (coupon_events), read here. */
@Module({
  imports: [EventFeedModule],
  controllers: [EventsController],
})
export class EventsModule {}
