import { applyDecorators, UseGuards } from '@nestjs/common';
import { SkipThrottle } from '@nestjs/throttler';
import { RateLimitGuard } from './rate-limit.guard';

/** Named limits (see RateLimitModule); each route opts into the ones it names, and skips the rest. */
export const HOLDER_ACTION_LIMIT = 'holder-action';
export const AUTH_LIMIT = 'auth';
export const SIGNUP_LIMIT = 'signup';
export const READ_LIMIT = 'read';
const ALL_LIMITS = [HOLDER_ACTION_LIMIT, AUTH_LIMIT, SIGNUP_LIMIT, READ_LIMIT];

const limitedBy = (...names: string[]) =>
  applyDecorators(UseGuards(RateLimitGuard), SkipThrottle(Object.fromEntries(ALL_LIMITS.map((name) => [name, !names.includes(name)]))));

/**
 * RATE_LIMIT_ISSUE_PER_SECOND per user, on what a holder does with a coupon: give it back, redeem
 * it (a checkout's call). Issue requests themselves are counted per user and coupon by the
 * strategy itself (reserve.lua; pessimistic: FixedWindowCounter).
 */
export const HolderActionRateLimit = () => limitedBy(HOLDER_ACTION_LIMIT);
/** RATE_LIMIT_AUTH_PER_MINUTE per client address: slows password guessing. */
export const AuthRateLimit = () => limitedBy(AUTH_LIMIT);
/** The auth limit, and RATE_LIMIT_SIGNUP_PER_HOUR per client address: accounts are not free to mint. */
export const SignupRateLimit = () => limitedBy(AUTH_LIMIT, SIGNUP_LIMIT);
/** RATE_LIMIT_READ_PER_SECOND per user on reads that cost a query (polls, lists); admins are not counted. */
export const ReadRateLimit = () => limitedBy(READ_LIMIT);
