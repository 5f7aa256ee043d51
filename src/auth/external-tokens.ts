import { Injectable } from '@nestjs/common';
import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { TokenUser } from '../common/auth-user';
import { DomainError, unavailable } from '../common/errors/domain.error';
import { ErrorCode } from '../common/errors/error-code';
import { AuthConfig } from '../config/auth.config';
import { ExternalUsers } from '../users/external-users';
import { VerifiedTokens } from './verified-tokens';

/** What the shop's identity provider may sign with; anything else (HS256 with its public key as the secret, `none`) is refused. */
export const EXTERNAL_ALGORITHMS = ['RS256', 'ES256'];
/** Clock skew allowed between the provider and this service, on `exp` and `nbf`. */
const LEEWAY_SECONDS = 30;
/** An unknown `kid` fetches the key set again at most this often, so forged kids cannot flood the provider. */
const REFETCH_AT_MOST_EVERY_MS = 30_000;
/** The key set is fetched again after this long even when every kid is known (keys retired by the provider go). */
const KEYS_KEPT_MS = 10 * 60_000;
const FETCH_TIMEOUT_MS = 5_000;
const SUBJECT = /^.{1,255}$/su;

/** The provider's key set could not be had (down, slow, not a key set): an outage, not a bad token. */
const keysOutOfReach = (error: unknown) =>
  !(error instanceof errors.JOSEError) || error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid || error.constructor === errors.JOSEError;

const refused = () => new DomainError(ErrorCode.UNAUTHORIZED, 'A valid Bearer token is required');

/**
 * Tokens of the shop's own identity provider (AUTH_JWKS_URL, AUTH_ISSUER, AUTH_AUDIENCE): verified
 * by `jose` against the provider's key set (fetched, cached, refetched on an unknown kid at most
 * every 30 s), then their `sub` is the service's user (ExternalUsers makes it on first sight).
 * Revoking such a token is the provider's business: it lives until its `exp`, so keep them short.
 */
@Injectable()
export class ExternalTokens {
  private readonly keys?: JWTVerifyGetKey;
  private readonly verified = new VerifiedTokens();

  constructor(
    private readonly config: AuthConfig,
    private readonly users: ExternalUsers,
  ) {
    if (config.external) {
      this.keys = createRemoteJWKSet(config.external.jwksUrl, {
        cooldownDuration: REFETCH_AT_MOST_EVERY_MS,
        cacheMaxAge: KEYS_KEPT_MS,
        timeoutDuration: FETCH_TIMEOUT_MS,
      });
    }
  }

  /** Whether this token is the provider's to judge: one is configured, and the token says it is signed as the provider signs. */
  claims(token: string): boolean {
    if (!this.keys) return false;
    try {
      return EXTERNAL_ALGORITHMS.includes(decodeProtectedHeader(token).alg ?? '');
    } catch {
      return false;
    }
  }

  /** The user the token names (made on first sight); 401 unless the provider signed it and it is valid now. */
  async authenticate(token: string): Promise<TokenUser> {
    const known = this.verified.get(token);
    if (known) return known;
    const { issuer, audience } = this.config.external!;
    let sub: string | undefined;
    let exp: number | undefined;
    try {
      const { payload } = await jwtVerify(token, this.keys!, {
        algorithms: EXTERNAL_ALGORITHMS,
        issuer,
        audience,
        clockTolerance: LEEWAY_SECONDS,
        requiredClaims: ['exp', 'sub'],
      });
      ({ sub, exp } = payload);
    } catch (error) {
      if (keysOutOfReach(error)) throw unavailable("the identity provider's key set cannot be fetched");
      throw refused();
    }
    if (typeof sub !== 'string' || !SUBJECT.test(sub)) throw refused();
    const user: TokenUser = { id: await this.users.userIdFor(sub), role: 'user' };
    this.verified.remember(token, user, exp!);
    return user;
  }
}
