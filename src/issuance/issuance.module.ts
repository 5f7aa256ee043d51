import { Module, Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { AppConfig, IssuanceStrategyName } from '../config/app-config';
import { CouponsModule } from '../coupons/coupons.module';
import { IssuanceCoreModule } from './issuance-core.module';
import { CampaignMetrics } from './campaign.metrics';
import { IssuanceController } from './issuance.controller';
import { IssuanceService } from './issuance.service';
import { MyCouponsController } from './my-coupons.controller';
import { RedemptionController } from './redemption.controller';
import { RedemptionService } from './redemption.service';
import { IssuanceStrategy } from './strategies/issuance.strategy';
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
    RedemptionService,
    CampaignMetrics,
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
