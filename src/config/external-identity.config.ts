import { ConfigError } from './config.error';
import type { Env } from './env-readers';

/** The shop's own identity provider, whose tokens are accepted beside the service's (External identity). */
export interface ExternalIdentityConfig {
  /** Its JSON Web Key Set (http or https). */
  jwksUrl: URL;
  /** `iss` its tokens must carry. */
  issuer: string;
  /** `aud` its tokens must carry (equal, or among them). */
  audience: string;
}

const NAMES = ['AUTH_JWKS_URL', 'AUTH_ISSUER', 'AUTH_AUDIENCE'] as const;

/** AUTH_JWKS_URL, AUTH_ISSUER and AUTH_AUDIENCE: the three together, or none (undefined). */
export function readExternalIdentity(env: Env): ExternalIdentityConfig | undefined {
  const [jwks, issuer, audience] = NAMES.map((name) => env[name]?.trim() || undefined);
  if (!jwks && !issuer && !audience) return undefined;
  const missing = NAMES.find((_, i) => ![jwks, issuer, audience][i]);
  if (missing) throw new ConfigError(missing, `must be set together with ${NAMES.filter((n) => n !== missing).join(' and ')} (or none of them)`);
  let jwksUrl: URL;
  try {
    jwksUrl = new URL(jwks!);
  } catch {
    throw new ConfigError('AUTH_JWKS_URL', `must be a URL, got "${jwks}"`);
  }
  if (jwksUrl.protocol !== 'https:' && jwksUrl.protocol !== 'http:') throw new ConfigError('AUTH_JWKS_URL', `must be an http or https URL, got "${jwks}"`);
  return { jwksUrl, issuer: issuer!, audience: audience! };
}
