import type { KeyObject } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import type { TokenUser } from '../common/auth-user';
import { JWT_KEY } from './jwt-key';
import { JWT_ALGORITHM, TokenService } from './token.service';
import { VerifiedTokens } from './verified-tokens';

export const fromBearer = ExtractJwt.fromAuthHeaderAsBearerToken();
/** The request as passport's types see it (Express's; Fastify's request has the same headers). */
type PassportRequest = Parameters<Strategy['authenticate']>[0];

/**
 * passport-jwt's strategy: the Bearer token, verified with the service's key (HS256 only), becomes
 * the user it claims to be, if its claims are exactly what the service signs. Whether that user
 * still exists, and the role they hold now, the global guard decides after.
 *
 * A token verified before (and not expired) succeeds from memory: `authenticate` is the strategy's
 * own step in passport's design, and the full verification runs for any token not seen yet.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  private readonly verified = new VerifiedTokens();

  constructor(@Inject(JWT_KEY) key: KeyObject) {
    super({
      jwtFromRequest: fromBearer,
      // passport-jwt hands it to jsonwebtoken.verify, which takes a KeyObject; its types say string | Buffer
      secretOrKey: key as unknown as Buffer,
      algorithms: [JWT_ALGORITHM],
      ignoreExpiration: false,
      passReqToCallback: true, // validate() remembers the token it was given
    });
  }

  authenticate(request: PassportRequest, options?: unknown): void {
    const token = fromBearer(request);
    const known = token ? this.verified.get(token) : undefined;
    if (known) return this.success(known);
    super.authenticate(request, options);
  }

  validate(request: PassportRequest, claims: { exp?: unknown }): TokenUser | false {
    const user = TokenService.claimedUser(claims);
    if (!user) return false;
    this.verified.remember(fromBearer(request)!, user, claims.exp as number); // claimedUser checked exp is a number
    return user;
  }
}
