import { Module, Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { AppConfig, IssuanceStrategyName } from '../config/app-config';
import { CouponsModule } from '../coupons/coupons.module';
import { IssuanceCoreModule } from './issuance-core.module';
import { CampaignMetrics } from './campaign.metrics';
import { IssuanceController } from './issuance.controller';
import { IdempotencyKeys } from './idempotency-keys';
import { IssuanceService } from './issuance.service';
import { MyCouponsController } from './my-coupons.controller';
import { RedemptionController } from './redemption.controller';
import { RedemptionService } from './redemption.service';
import { IssuanceStrategy } from './strategies/issuance.strategy';
import { PostgresStockSignal } from './sold-out/postgres-stock-signal';
import { RedisStockSignal } from './sold-out/redis-stock-signal';
import { SoldOutGate } from './sold-out/sold-out-gate';
import { StockSignal } from './sold-out/stock-signal';
import { REDIS, type RedisClient } from '../redis/redis.module';
import { PessimisticLockStrategy } from './strategies/pessimistic-lock.strategy';
import { QueuedStrategy } from './strategies/queued.strategy';
import { RedisReservationStrategy } from './strategies/redis-reservation.strategy';

/** Each strategy is one class; adding one is adding a file and a line here. */
const STRATEGIES: Record<IssuanceStrategyName, Type<IssuanceStrategy>> = {
  pessimistic: PessimisticLockStrategy,
  redis: RedisReservationStrategy,
  queue: QueuedStrategy,
};

@Module({
  imports: [CouponsModule, IssuanceCoreModule],
  controllers: [IssuanceController, MyCouponsController, RedemptionController],
  providers: [
    IssuanceService,
    IdempotencyKeys,
    RedemptionService,
    CampaignMetrics,
    SoldOutGate,
    {
      // where stock lives, changes are heard: Redis' scripts publish, PostgreSQL's triggers notify
      provide: StockSignal,
      inject: [AppConfig, { token: REDIS, optional: true }],
      useFactory: (config: AppConfig, redis?: RedisClient) => (redis ? new RedisStockSignal(redis) : new PostgresStockSignal(() => config.database.url)),
    },
    {
      // only the configured strategy is built; its dependencies (ReservationStore for redis and
      // queue) are there because the composition root imported what it needs
      provide: IssuanceStrategy,
      inject: [AppConfig, ModuleRef],
      useFactory: (config: AppConfig, moduleRef: ModuleRef) => moduleRef.create(STRATEGIES[config.strategy]),
    },
  ],
  exports: [IssuanceStrategy],
})
export class IssuanceModule {}
