import { createSecretKey, KeyObject } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import * as jwt from 'jsonwebtoken';
import { AppConfig } from '../config/app-config';
import type { AuthUser } from '../common/auth-user';
import { resolveJwtSecret } from './jwt-secret';

const ALGORITHMS: jwt.Algorithm[] = ['HS256'];

/**
 * Signs and verifies access tokens. The secret is held as a KeyObject: with a plain string,
 * jsonwebtoken re-imports the key on every call (~0.45 ms per verify here, a hard cap of
 * ~2.5k requests/s for the whole service) against a few microseconds with a KeyObject.
 */
@Injectable()
export class TokenService {
  private readonly key: KeyObject;
  readonly expiresInSeconds: number;

  constructor(config: AppConfig) {
    this.key = createSecretKey(Buffer.from(resolveJwtSecret(config), 'utf8'));
    this.expiresInSeconds = config.jwt.expiresInSeconds;
  }

  sign(user: AuthUser): string {
    return signAccessToken(this.key, user, this.expiresInSeconds);
  }

  /** The token's user, or undefined for anything not a valid, unexpired HS256 token of ours. */
  verify(token: string): AuthUser | undefined {
    let claims: jwt.JwtPayload | string;
    try {
      claims = jwt.verify(token, this.key, { algorithms: ALGORITHMS });
    } catch {
      return undefined;
    }
    if (typeof claims !== 'object' || typeof claims.exp !== 'number') return undefined;
    const { sub, role } = claims as { sub?: unknown; role?: unknown };
    if (typeof sub !== 'string' || !/^[1-9]\d{0,9}$/.test(sub)) return undefined;
    if (role !== 'user' && role !== 'admin') return undefined;
    return { id: Number(sub), role };
  }
}

/** Shared with generate-tokens.ts so load-test tokens are exactly what the service issues. */
export function signAccessToken(key: KeyObject | string, user: AuthUser, expiresInSeconds: number): string {
  const secret = typeof key === 'string' ? createSecretKey(Buffer.from(key, 'utf8')) : key;
  return jwt.sign({ role: user.role }, secret, { algorithm: 'HS256', subject: String(user.id), expiresIn: expiresInSeconds });
}
