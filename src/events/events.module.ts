import { Module } from '@nestjs/common';
import { EventFeed } from './event-feed';
import { EventsController } from './events.controller';

/** The changes of issues as events: written by the statements that make them (coupon_events), read here. */
@Module({
  controllers: [EventsController],
  providers: [EventFeed],
  exports: [EventFeed],
})
export class EventsModule {}
