import { applyDecorators, UseGuards } from '@nestjs/common';
import { SkipThrottle } from '@nestjs/throttler';
import { RateLimitGuard } from './rate-limit.guard';

/** Named limits (see RateLimitModule); each route opts into exactly one. */
export const ISSUE_LIMIT = 'issue';
export const AUTH_LIMIT = 'auth';

/** RATE_LIMIT_ISSUE_PER_SECOND per user. */
export const IssueRateLimit = () => applyDecorators(UseGuards(RateLimitGuard), SkipThrottle({ [AUTH_LIMIT]: true }));
/** RATE_LIMIT_AUTH_PER_MINUTE per client IP: slows password guessing. */
export const AuthRateLimit = () => applyDecorators(UseGuards(RateLimitGuard), SkipThrottle({ [ISSUE_LIMIT]: true }));
