import { DynamicModule, Module, Type } from '@nestjs/common';
import { AuthModule } from './auth/auth.module';
import { AppConfig } from './config/app-config';
import type { IssuanceStrategyName } from './config/issuance.config';
import { AppConfigModule } from './config/config.module';
import { CouponsModule } from './coupons/coupons.module';
import { DatabaseModule } from './database/database.module';
import { EventsModule } from './events/events.module';
import { WebhookDeliveryModule, WebhooksModule } from './webhooks/webhooks.module';
import { HealthModule } from './health/health.module';
import { IssuanceModule } from './issuance/issuance.module';
import { IssueQueueModule } from './issuance/queue/issue-queue.module';
import { ReservationModule } from './issuance/reservation/reservation.module';
import { SharedStateModule } from './shared-state/shared-state.module';
import { MetricsModule } from './metrics/metrics.module';
import { QueueWorkerModule } from './queue-worker/queue-worker.module';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { UsersModule } from './users/users.module';

/** What each strategy needs beside the rest: a coupon's state in Redis; the queue's producer. */
const STRATEGY_MODULES: Record<IssuanceStrategyName, Type[]> = {
  pessimistic: [],
  redis: [ReservationModule],
  queue: [ReservationModule, IssueQueueModule],
};

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    // the queue's consumer, in this process too (RUN_WORKER); else only `npm run start:worker` runs it
    const worker = config.issuance.strategy === 'queue' && config.issuance.runWorker ? [QueueWorkerModule] : [];
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(config),
        DatabaseModule,
        SharedStateModule.forRoot(config),
        ...STRATEGY_MODULES[config.issuance.strategy],
        MetricsModule,
        RateLimitModule,
        AuthModule,
        UsersModule,
        CouponsModule,
        IssuanceModule,
        EventsModule,
        WebhooksModule,
        // webhooks are sent where the background work runs: here, or (queue) in QueueWorkerModule
        ...(config.issuance.strategy === 'queue' ? [] : [WebhookDeliveryModule]),
        HealthModule,
        ...worker,
      ],
    };
  }
}
