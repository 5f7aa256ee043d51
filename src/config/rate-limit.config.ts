import { type Env, int } from './env-readers';

/** The rate limits (RATE_LIMIT_*); 0 turns one off. */
export abstract class RateLimitConfig {
  /** Issue requests per user and coupon per second (counted by the strategy), and give-backs and redemptions per user. */
  issuePerSecond: number;
  /** /auth/* requests per client address per minute. */
  authPerMinute: number;
  /** Sign-ups per client address per hour, on top of authPerMinute. */
  signupPerHour: number;
  /** Polls and lists per user per second (admins not counted). */
  readPerSecond: number;
}

export function readRateLimitConfig(env: Env): RateLimitConfig {
  return {
    issuePerSecond: int(env, 'RATE_LIMIT_ISSUE_PER_SECOND', 10, 0, 1_000_000),
    authPerMinute: int(env, 'RATE_LIMIT_AUTH_PER_MINUTE', 60, 0, 1_000_000),
    signupPerHour: int(env, 'RATE_LIMIT_SIGNUP_PER_HOUR', 20, 0, 1_000_000),
    readPerSecond: int(env, 'RATE_LIMIT_READ_PER_SECOND', 50, 0, 1_000_000),
  };
}
