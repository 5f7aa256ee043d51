import { Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { AppConfig } from '../config/app-config';
import { REDIS, RedisClient } from '../redis/redis.module';
import type { ExecutionContext } from '@nestjs/common';
import type { AuthUser } from '../common/auth-user';
import { AUTH_LIMIT, ISSUE_LIMIT, READ_LIMIT, SIGNUP_LIMIT } from './rate-limit.decorators';
import { PromptlySweptRateLimitStorage } from './in-process-rate-limit.storage';
import { RedisRateLimitStorage } from './redis-rate-limit.storage';

/**
 * Rate limits kept in Redis where the service has it, so every instance shares one count; in the
 * process otherwise (pessimistic needs nothing but PostgreSQL).
 */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [AppConfig, { token: REDIS, optional: true }],
      useFactory: (config: AppConfig, redis?: RedisClient) => ({
        throttlers: [
          { name: ISSUE_LIMIT, ttl: 1000, limit: config.rateLimit.issuePerSecond, skipIf: () => config.rateLimit.issuePerSecond === 0 },
          { name: AUTH_LIMIT, ttl: 60_000, limit: config.rateLimit.authPerMinute, skipIf: () => config.rateLimit.authPerMinute === 0 },
          { name: SIGNUP_LIMIT, ttl: 3_600_000, limit: config.rateLimit.signupPerHour, skipIf: () => config.rateLimit.signupPerHour === 0 },
          {
            name: READ_LIMIT,
            ttl: 1000,
            limit: config.rateLimit.readPerSecond,
            // the admin page and checkout back ends poll as admins: trusted, and few
            skipIf: (context: ExecutionContext) =>
              config.rateLimit.readPerSecond === 0 || context.switchToHttp().getRequest<{ user?: AuthUser }>().user?.role === 'admin',
          },
        ],
        storage: redis ? new RedisRateLimitStorage(redis) : new PromptlySweptRateLimitStorage(),
        setHeaders: false,
      }),
    }),
  ],
})
export class RateLimitModule {}
