import { Module, Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { AppConfig, IssuanceStrategyName } from '../config/app-config';
import { CouponsModule } from '../coupons/coupons.module';
import { CampaignMetrics } from './campaign.metrics';
import { IssuanceController } from './issuance.controller';
import { IssuanceService } from './issuance.service';
import { IssueStore } from './issue.store';
import { MyCouponsController } from './my-coupons.controller';
import { IssuanceStrategy } from './strategies/issuance.strategy';
import { IssueWriter } from './issue-writer';
import { ReservationStore } from './reservation/reservation.store';
import { PessimisticLockStrategy } from './strategies/pessimistic-lock.strategy';
import { QueuedStrategy } from './strategies/queued.strategy';
import { RedisReservationStrategy } from './strategies/redis-reservation.strategy';
import { STRATEGY_OVERRIDE, StrategyOverride } from './strategies/strategy-override';

/** Each strategy is one class; adding one is adding a file and a line here. */
const STRATEGIES: Record<IssuanceStrategyName, Type<IssuanceStrategy>> = {
  pessimistic: PessimisticLockStrategy,
  redis: RedisReservationStrategy,
  queue: QueuedStrategy,
};

@Module({
  imports: [CouponsModule],
  controllers: [IssuanceController, MyCouponsController],
  providers: [
    IssueStore,
    IssueWriter,
    ReservationStore,
    IssuanceService,
    CampaignMetrics,
    {
      provide: IssuanceStrategy,
      inject: [AppConfig, ModuleRef, { token: STRATEGY_OVERRIDE, optional: true }],
      useFactory: (config: AppConfig, moduleRef: ModuleRef, override?: StrategyOverride) => {
        if (override) return override(moduleRef);
        return moduleRef.create(STRATEGIES[config.strategy]);
      },
    },
  ],
  exports: [IssuanceStrategy],
})
export class IssuanceModule {}
