import { Module, Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { IssuanceConfig, IssuanceStrategyName } from '../config/issuance.config';
import { CouponsModule } from '../coupons/coupons.module';
import { IssuanceCoreModule } from './issuance-core.module';
import { LiveCouponMetrics } from './live-coupon.metrics';
import { IssuanceController } from './issuance.controller';
import { IdempotencyKeys } from './idempotency-keys';
import { IssuanceService } from './issuance.service';
import { MyCouponsController } from './my-coupons.controller';
import { RedemptionController } from './redemption.controller';
import { RedemptionService } from './redemption.service';
import { IssuanceStrategy } from './strategies/issuance.strategy';
import { SoldOutGate } from './sold-out/sold-out-gate';
import { PessimisticLockStrategy } from './strategies/pessimistic-lock.strategy';
import { QueueStrategy } from './strategies/queue.strategy';
import { RedisReservationStrategy } from './strategies/redis-reservation.strategy';

/** Each strategy is one class; adding one is adding a file and a line here. */
const STRATEGIES: Record<IssuanceStrategyName, Type<IssuanceStrategy>> = {
  pessimistic: PessimisticLockStrategy,
  redis: RedisReservationStrategy,
  queue: QueueStrategy,
};

@Module({
  imports: [CouponsModule, IssuanceCoreModule],
  controllers: [IssuanceController, MyCouponsController, RedemptionController],
  providers: [
    IssuanceService,
    IdempotencyKeys,
    RedemptionService,
    LiveCouponMetrics,
    SoldOutGate,
    {
      // only the configured strategy is built; its dependencies (ReservationStore for redis and
      // queue) are there because the composition root imported what it needs
      provide: IssuanceStrategy,
      inject: [IssuanceConfig, ModuleRef],
      useFactory: (config: IssuanceConfig, moduleRef: ModuleRef) => moduleRef.create(STRATEGIES[config.strategy]),
    },
  ],
  exports: [IssuanceStrategy],
})
export class IssuanceModule {}
