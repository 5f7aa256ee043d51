import type { TokenUser } from '../common/auth-user';

/** Tokens remembered at most; a client keeps one token for many requests (polls, checkout). */
const CAPACITY = 10_000;

/**
 * Tokens this process has verified, with the user their claims name, until they expire. Verifying
 * an HS256 token again (base64, JSON, HMAC) was a seventh of the CPU of an authenticated request
 * here; the same string seen again is the same verified token. Only what verification accepted is
 * remembered, keyed by the whole token, so nothing unverified can ever be read from it. Whether the
 * user still exists, and their role, is still decided per request by the guard.
 */
export class VerifiedTokens {
  private readonly entries = new Map<string, { user: TokenUser; expiresAtMs: number }>();

  get(token: string, nowMs = Date.now()): TokenUser | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (entry.expiresAtMs <= nowMs) {
      this.entries.delete(token);
      return undefined;
    }
    return entry.user;
  }

  remember(token: string, user: TokenUser, expSeconds: number): void {
    if (this.entries.size >= CAPACITY) this.entries.delete(this.entries.keys().next().value!); // the oldest first
    this.entries.set(token, { user, expiresAtMs: expSeconds * 1000 });
  }
}
