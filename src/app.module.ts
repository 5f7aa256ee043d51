import { DynamicModule, Module, Provider } from '@nestjs/common';
import { AuthModule } from './auth/auth.module';
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
  static forRoot(config: AppConfig, extraProviders: Provider[] = []): DynamicModule {
    return {
      module: AppModule,
      imports: [
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
