import { Global, Module } from '@nestjs/common';
import { REDIS, type RedisClient } from '../../redis/redis.module';
import { GiveBackRepair } from './give-back-repair';
import { HoldersRepair } from './holders-repair';
import { PendingRequests } from './pending-requests';
import { ReplicaConfirmation } from './replica-confirmation';
import { ReservationRebuild } from './reservation-rebuild';
import { loadReservationScripts, RESERVATION_SCRIPTS } from './reservation-scripts';
import { ReservationStore } from './reservation.store';

const PARTS = [ReservationStore, ReservationRebuild, PendingRequests, ReplicaConfirmation, GiveBackRepair, HoldersRepair];

/**
 * A coupon's reservation state in Redis: the decisions (ReservationStore), its rebuild from
 * PostgreSQL (ReservationRebuild), the accepted requests not yet settled (PendingRequests), the
 * replicas' confirmation (ReplicaConfirmation), and the repairs of give-backs cut short
 * (GiveBackRepair) and of holders out of line with the rows (HoldersRepair), running in every such
 * process. Imported by the composition root only where Redis is in use (AppModule for redis and
 * queue, the worker), beside RedisModule; global like it, so that the strategy built from the
 * configuration finds it.
 */
@Global()
@Module({
  providers: [{ provide: RESERVATION_SCRIPTS, inject: [REDIS], useFactory: (redis: RedisClient) => loadReservationScripts(redis) }, ...PARTS],
  exports: PARTS,
})
export class ReservationModule {}
