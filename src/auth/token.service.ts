import type { KeyObject } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import type { AuthUser } from '../common/auth-user';
import { AppConfig } from '../config/app-config';
import { toJwtKey } from './jwt-key';

/** HS256 only, on both sides: a token of another algorithm (`none` included) is refused. */
export const JWT_ALGORITHM = 'HS256';

const claimsOf = (user: AuthUser) => ({ role: user.role });
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

  sign(user: AuthUser): string {
    return this.jwt.sign(claimsOf(user), signOptionsOf(user, this.expiresInSeconds));
  }

  /** The user a verified token's claims name, or undefined unless they are exactly what sign() writes (and `exp` is there). */
  static claimedUser(claims: unknown): AuthUser | undefined {
    if (!claims || typeof claims !== 'object') return undefined;
    const { sub, role, exp } = claims as { sub?: unknown; role?: unknown; exp?: unknown };
    if (typeof exp !== 'number') return undefined;
    if (typeof sub !== 'string' || !/^[1-9]\d{0,9}$/.test(sub)) return undefined;
    if (role !== 'user' && role !== 'admin') return undefined;
    return { id: Number(sub), role };
  }
}

/** For tools outside the application (generate-tokens.ts, tests): exactly the tokens the service issues. */
export function signAccessToken(key: KeyObject | string, user: AuthUser, expiresInSeconds: number): string {
  return new JwtService({ secret: toJwtKey(key) }).sign(claimsOf(user), signOptionsOf(user, expiresInSeconds));
}
