import { DynamicModule, Module, Provider } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { Logger } from 'pino';
import { AuthModule } from './auth/auth.module';
import { loggerParams } from './bootstrap/logger';
import { AppConfig } from './config/app-config';
import { AppConfigModule } from './config/config.module';
import { CouponsModule } from './coupons/coupons.module';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { IssuanceModule } from './issuance/issuance.module';
import { MetricsModule } from './metrics/metrics.module';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { RedisModule } from './redis/redis.module';
import { UsersModule } from './users/users.module';

@Module({})
export class AppModule {
  /** `logger`: the process's root pino logger (bootstrap/logger.ts), shared with start-up code. */
  static forRoot(config: AppConfig, logger: Logger, extraProviders: Provider[] = []): DynamicModule {
    return {
      module: AppModule,
      imports: [
        LoggerModule.forRoot(loggerParams(logger)),
        AppConfigModule.forRoot(config, extraProviders),
        DatabaseModule,
        RedisModule,
        MetricsModule,
        RateLimitModule,
        AuthModule,
        UsersModule,
        CouponsModule,
        IssuanceModule,
        HealthModule,
      ],
    };
  }
}
