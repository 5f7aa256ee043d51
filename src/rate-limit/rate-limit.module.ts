import { Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { RateLimitConfig } from '../config/rate-limit.config';
import type { ExecutionContext } from '@nestjs/common';
import type { AuthUser } from '../common/auth-user';
import { AUTH_LIMIT, HOLDER_ACTION_LIMIT, READ_LIMIT, SIGNUP_LIMIT } from './rate-limit.decorators';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { RATE_LIMIT_STORAGE } from './rate-limit-storage';

/**
 * The rate limits; their counts are kept where SharedStateModule says (in Redis, shared by every
 * instance, where the service has it).
 */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [RateLimitConfig, RATE_LIMIT_STORAGE],
      useFactory: (limits: RateLimitConfig, storage: ThrottlerStorage) => ({
        throttlers: [
          { name: HOLDER_ACTION_LIMIT, ttl: 1000, limit: limits.issuePerSecond, skipIf: () => limits.issuePerSecond === 0 },
          { name: AUTH_LIMIT, ttl: 60_000, limit: limits.authPerMinute, skipIf: () => limits.authPerMinute === 0 },
          { name: SIGNUP_LIMIT, ttl: 3_600_000, limit: limits.signupPerHour, skipIf: () => limits.signupPerHour === 0 },
          {
            name: READ_LIMIT,
            ttl: 1000,
            limit: limits.readPerSecond,
            // the admin page polls as an admin: trusted, and few; a service key is counted like a user
            skipIf: (context: ExecutionContext) => {
              const caller = context.switchToHttp().getRequest<{ user?: AuthUser }>().user;
              return limits.readPerSecond === 0 || (caller?.role === 'admin' && caller.keyId === undefined);
            },
          },
        ],
        storage,
        setHeaders: false,
      }),
    }),
  ],
})
export class RateLimitModule {}
