import { createSecretKey, KeyObject } from 'node:crypto';
import { Module } from '@nestjs/common';
import { AuthConfig } from '../config/auth.config';
import { resolveJwtSecret } from './jwt-secret';

/**
 * The HS256 key as a KeyObject. With a plain string, jsonwebtoken re-imports the key on every call
 * (~0.45 ms per verify here, a hard cap of ~2.5k requests/s for the whole service) against a few
 * microseconds with a KeyObject. Signing (JwtService) and verifying (passport-jwt) share it.
 */
export const JWT_KEY = Symbol('JWT_KEY');

export const toJwtKey = (secret: string | KeyObject): KeyObject => (typeof secret === 'string' ? createSecretKey(Buffer.from(secret, 'utf8')) : secret);

@Module({
  providers: [{ provide: JWT_KEY, inject: [AuthConfig], useFactory: (config: AuthConfig) => toJwtKey(resolveJwtSecret(config)) }],
  exports: [JWT_KEY],
})
export class JwtKeyModule {}
