import { Global, Module } from '@nestjs/common';
import { ReservationStore } from './reservation.store';

/**
 * A coupon's reservation state in Redis. Imported by the composition root only where Redis is in
 * use (AppModule for redis and queue, the worker), beside RedisModule; global like it, so that the
 * strategy built from the configuration finds it.
 */
@Global()
@Module({ providers: [ReservationStore], exports: [ReservationStore] })
export class ReservationModule {}
