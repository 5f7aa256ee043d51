import { DynamicModule, Module } from '@nestjs/common';
import { AuthModule } from './auth/auth.module';
import { AppConfig } from './config/app-config';
import { AppConfigModule } from './config/config.module';
import { CouponsModule } from './coupons/coupons.module';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { IssuanceModule } from './issuance/issuance.module';
import { ReservationModule } from './issuance/reservation/reservation.module';
import { MetricsModule } from './metrics/metrics.module';
import { QueueWorkerModule } from './queue-worker/queue-worker.module';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { RedisModule } from './redis/redis.module';
import { UsersModule } from './users/users.module';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    // the queue's consumer, in this process too (RUN_WORKER); else only `npm run start:worker` runs it
    const worker = config.strategy === 'queue' && config.runWorker ? [QueueWorkerModule] : [];
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(config),
        DatabaseModule,
        ...(config.redis ? [RedisModule.forRoot({ endpoint: config.redis, warnIfNotDurable: config.strategy === 'queue' }), ReservationModule] : []),
        MetricsModule,
        RateLimitModule,
        AuthModule,
        UsersModule,
        CouponsModule,
        IssuanceModule,
        HealthModule,
        ...worker,
      ],
    };
  }
}
