import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerLimitDetail } from '@nestjs/throttler';
import type { AuthUser } from '../common/auth-user';
import { clientKey } from '../common/client-address';
import { DomainError } from '../common/errors/domain.error';
import { ErrorCode } from '../common/errors/error-code';

/**
 * Counts per user (or service key) where the route is authenticated (the global AuthGuard ran first), per client
 * address otherwise (an IPv6 client by its /64), and answers 429 RATE_LIMITED with Retry-After in seconds.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  protected async getTracker(req: { user?: AuthUser; ip: string }): Promise<string> {
    if (req.user?.keyId !== undefined) return `key:${req.user.keyId}`;
    return req.user ? `user:${req.user.id}` : `ip:${clientKey(req.ip)}`;
  }

  /** A plain key (the default hashes route and tracker with sha256 on every request). */
  protected generateKey(_: ExecutionContext, tracker: string, throttlerName: string): string {
    return `${throttlerName}:${tracker}`;
  }

  protected async throwThrottlingException(_: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const seconds = Math.max(1, Math.ceil(detail.timeToBlockExpire));
    throw new DomainError(ErrorCode.RATE_LIMITED, `Too many requests; retry in ${seconds} s`, { 'Retry-After': String(seconds) });
  }
}
