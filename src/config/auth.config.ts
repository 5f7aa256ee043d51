import { ConfigError } from './config.error';
import type { Deployment } from './deployment';
import { parseDurationSeconds } from './duration';
import type { Env } from './env-readers';
import { ExternalIdentityConfig, readExternalIdentity } from './external-identity.config';

/** Access tokens live a day at most. */
const MAX_TOKEN_LIFETIME_SECONDS = 24 * 3600;
const MIN_PRODUCTION_SECRET_BYTES = 32;
const MIN_PRODUCTION_SECRET_DISTINCT_CHARS = 12;
const MIN_ADMIN_PASSWORD_LENGTH = 12;
/** Passwords that appear in examples (this project's among them): as good as public. */
const KNOWN_DEFAULT_PASSWORDS = new Set(['change-me-please', 'changeme123!', 'administrator', 'password1234', 'admin-password', 'adminadminadmin']);

/** Tokens, the first admin, and the shop's identity provider (JWT_*, ADMIN_*, AUTH_*). */
export abstract class AuthConfig {
  jwt: {
    /** HS256 secret; undefined in development means "use the one kept under .data/". */
    secret?: string;
    expiresInSeconds: number;
  };
  admin?: { email: string; password: string };
  /** Tokens of the shop's identity provider accepted beside the service's own. */
  external?: ExternalIdentityConfig;
}

export function readAuthConfig(env: Env, { strict, why }: Deployment): AuthConfig {
  const secret = env.JWT_SECRET_KEY || undefined;
  if (strict && !secret) throw new ConfigError('JWT_SECRET_KEY', `is required ${why}`);
  if (strict && Buffer.byteLength(secret!, 'utf8') < MIN_PRODUCTION_SECRET_BYTES) {
    throw new ConfigError('JWT_SECRET_KEY', `must be at least ${MIN_PRODUCTION_SECRET_BYTES} bytes ${why}`);
  }
  // long but guessable ('xxxx…', '1234…1234'): a placeholder, not a key
  if (strict && new Set(secret).size < MIN_PRODUCTION_SECRET_DISTINCT_CHARS) {
    throw new ConfigError('JWT_SECRET_KEY', `is too repetitive to be a key (use e.g. openssl rand -hex 32) ${why}`);
  }
  const expiresIn = env.JWT_EXPIRES_IN?.trim() || '1h';
  const expiresInSeconds = parseDurationSeconds(expiresIn);
  if (!expiresInSeconds) throw new ConfigError('JWT_EXPIRES_IN', `must be a duration such as 3600, 15m, 1h or 24h, got "${expiresIn}"`);
  // a token outlives nothing it should not: revocation refuses it, but a leaked one still works until then
  if (expiresInSeconds > MAX_TOKEN_LIFETIME_SECONDS) throw new ConfigError('JWT_EXPIRES_IN', `must be at most 24h, got "${expiresIn}"`);

  const adminEmail = env.ADMIN_EMAIL?.trim();
  const adminPassword = env.ADMIN_PASSWORD;
  if (Boolean(adminEmail) !== Boolean(adminPassword)) {
    throw new ConfigError(adminEmail ? 'ADMIN_PASSWORD' : 'ADMIN_EMAIL', 'must be set together with the other of ADMIN_EMAIL/ADMIN_PASSWORD');
  }
  if (strict && adminPassword && adminPassword.length < MIN_ADMIN_PASSWORD_LENGTH) {
    throw new ConfigError('ADMIN_PASSWORD', `must be at least ${MIN_ADMIN_PASSWORD_LENGTH} characters ${why}`);
  }
  if (strict && adminPassword && KNOWN_DEFAULT_PASSWORDS.has(adminPassword.toLowerCase())) {
    throw new ConfigError('ADMIN_PASSWORD', `is a published example password; choose one of your own (${why})`);
  }
  if (adminPassword && adminPassword.length < 8) throw new ConfigError('ADMIN_PASSWORD', 'must be at least 8 characters');
  return {
    jwt: { secret, expiresInSeconds },
    admin: adminEmail && adminPassword ? { email: adminEmail.toLowerCase(), password: adminPassword } : undefined,
    external: readExternalIdentity(env),
  };
}
