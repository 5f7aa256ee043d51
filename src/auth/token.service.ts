import type { KeyObject } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import type { AuthUser, TokenUser } from '../common/auth-user';
import { AppConfig } from '../config/app-config';
import { toJwtKey } from './jwt-key';

/** HS256 only, on both sides: a token of another algorithm (`none` included) is refused. */
export const JWT_ALGORITHM = 'HS256';

/** `iat` may be set ahead of the clock (never behind it) to clear a revocation mark of the current second. */
const claimsOf = (user: AuthUser, issuedAt?: number) => ({ role: user.role, ...(issuedAt ? { iat: issuedAt } : {}) });
const signOptionsOf = (user: AuthUser, expiresInSeconds: number) =>
  ({ subject: String(user.id), expiresIn: expiresInSeconds, algorithm: JWT_ALGORITHM }) as const;

/** Issues access tokens through JwtService (verifying them is passport-jwt's, in JwtStrategy). */
@Injectable()
export class TokenService {
  readonly expiresInSeconds: number;

  constructor(
    private readonly jwt: JwtService,
    config: AppConfig,
  ) {
    this.expiresInSeconds = config.jwt.expiresInSeconds;
  }

  /**
   * A token for the user. `notBefore` (seconds) is their revocation mark: a token must be issued at
   * or after it to be accepted, and the mark may lie up to a second ahead (see the migration
   * 1764200000000-token-revocation), so `iat` is the later of now and the mark.
   */
  sign(user: AuthUser, notBefore: number | null = null): string {
    const now = Math.floor(Date.now() / 1000);
    return this.jwt.sign(claimsOf(user, notBefore !== null && notBefore > now ? notBefore : undefined), signOptionsOf(user, this.expiresInSeconds));
  }

  /** The user a verified token's claims name, or undefined unless they are exactly what sign() writes (`exp` and `iat` included). */
  static claimedUser(claims: unknown): TokenUser | undefined {
    if (!claims || typeof claims !== 'object') return undefined;
    const { sub, role, exp, iat } = claims as { sub?: unknown; role?: unknown; exp?: unknown; iat?: unknown };
    if (typeof exp !== 'number' || typeof iat !== 'number') return undefined;
    if (typeof sub !== 'string' || !/^[1-9]\d{0,9}$/.test(sub)) return undefined;
    if (role !== 'user' && role !== 'admin') return undefined;
    return { id: Number(sub), role, issuedAt: iat };
  }
}

/** For tools outside the application (generate-tokens.ts, tests): exactly the tokens the service issues. */
export function signAccessToken(key: KeyObject | string, user: AuthUser, expiresInSeconds: number): string {
  return new JwtService({ secret: toJwtKey(key) }).sign(claimsOf(user), signOptionsOf(user, expiresInSeconds));
}
