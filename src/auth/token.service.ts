import type { KeyObject } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import type { AuthUser, TokenUser } from '../common/auth-user';
import { AuthConfig } from '../config/auth.config';
import { toJwtKey } from './jwt-key';

/** HS256 only, on both sides: a token of another algorithm (`none` included) is refused. */
export const JWT_ALGORITHM = 'HS256';

/** `gen`: the user's token generation when signed; a revocation moves the user to the next one. */
const claimsOf = (user: AuthUser, generation: number) => ({ role: user.role, gen: generation });
const signOptionsOf = (user: AuthUser, expiresInSeconds: number) =>
  ({ subject: String(user.id), expiresIn: expiresInSeconds, algorithm: JWT_ALGORITHM }) as const;

/** Issues access tokens through JwtService (verifying them is passport-jwt's, in JwtStrategy). */
@Injectable()
export class TokenService {
  readonly expiresInSeconds: number;

  constructor(
    private readonly jwt: JwtService,
    config: AuthConfig,
  ) {
    this.expiresInSeconds = config.jwt.expiresInSeconds;
  }

  /** A token for the user, of their token generation as read (accepted until it moves on). */
  sign(user: AuthUser, generation: number): string {
    return this.jwt.sign(claimsOf(user, generation), signOptionsOf(user, this.expiresInSeconds));
  }

  /**
   * The user a verified token's claims name, or undefined unless they are exactly what sign()
   * writes (`exp`, `iat` and `gen` included).
   */
  static claimedUser(claims: unknown): TokenUser | undefined {
    if (!claims || typeof claims !== 'object') return undefined;
    const { sub, role, exp, iat, gen } = claims as { sub?: unknown; role?: unknown; exp?: unknown; iat?: unknown; gen?: unknown };
    if (typeof exp !== 'number' || typeof iat !== 'number') return undefined;
    if (typeof sub !== 'string' || !/^[1-9]\d{0,9}$/.test(sub)) return undefined;
    if (role !== 'user' && role !== 'admin') return undefined;
    if (!Number.isSafeInteger(gen) || (gen as number) < 0) return undefined;
    return { id: Number(sub), role, generation: gen as number };
  }
}

/**
 * For tools outside the application (generate-tokens.ts, tests): exactly the tokens the service
 * issues, of the first generation (accepted until the user logs out or changes their password).
 */
export function signAccessToken(key: KeyObject | string, user: AuthUser, expiresInSeconds: number, generation = 0): string {
  return new JwtService({ secret: toJwtKey(key) }).sign(claimsOf(user, generation), signOptionsOf(user, expiresInSeconds));
}
