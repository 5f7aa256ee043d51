import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard as PassportAuthGuard } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import type { AuthUser, Role, TokenUser } from '../common/auth-user';
import { IS_PUBLIC, KEY_SCOPE, REQUIRED_ROLE } from '../common/decorators/auth.decorators';
import { DomainError } from '../common/errors/domain.error';
import { ErrorCode } from '../common/errors/error-code';
import { UserLookup } from '../users/user-lookup';
import { looksLikeKey } from '../api-keys/api-key-secret';
import { ServiceKeyAccess } from '../api-keys/service-key-access';
import type { ApiKeyScope } from '../common/api-key-scopes';
import { ExternalTokens } from './external-tokens';
import { fromBearer } from './jwt.strategy';

/**
 * Global guard: every route needs a valid Bearer token unless marked @Public(): the service's own
 * (HS256, passport-jwt, see JwtStrategy) or, when configured, one of the shop's identity provider
 * (RS256/ES256, see ExternalTokens), or a service key (`csk_…`, see ServiceKeyAccess) on a route
 * marked @KeyScope. A route marked @RequireRole('admin') needs that role too (401 before 403).
 * The token's user must still exist, the token must not be older than their last revocation
 * (log-out, password change, role change), and the role checked is the one they hold now, not
 * the one the token was signed with.
 */
@Injectable()
export class AuthGuard extends PassportAuthGuard('jwt') {
  constructor(
    private readonly reflector: Reflector,
    private readonly users: UserLookup,
    private readonly external: ExternalTokens,
    private readonly keys: ServiceKeyAccess,
  ) {
    super();
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest & { user: AuthUser }>();
    const bearer = fromBearer(request);
    if (bearer && looksLikeKey(bearer)) {
      request.user = await this.keys.admit(bearer, this.reflector.getAllAndOverride<ApiKeyScope | undefined>(KEY_SCOPE, targets));
      return true;
    }
    // the shop's provider signs RS256/ES256, the service HS256: each token goes to its one verifier
    if (bearer && this.external.claims(bearer)) request.user = await this.external.authenticate(bearer);
    else await super.canActivate(context);
    const token = request.user as TokenUser;
    const user = await this.users.current(token.id);
    if (!user) throw new DomainError(ErrorCode.UNAUTHORIZED, 'The user of this token no longer exists');
    if (token.generation !== undefined && token.generation !== user.tokenGeneration) {
      throw new DomainError(ErrorCode.UNAUTHORIZED, 'This token was revoked (log-out, password or role change): log in again');
    }
    const role = user.role;
    const required = this.reflector.getAllAndOverride<Role | undefined>(REQUIRED_ROLE, targets);
    if (required && role !== required) throw new DomainError(ErrorCode.FORBIDDEN, `This needs the ${required} role`);
    request.user = { id: token.id, role };
    return true;
  }

  /** No token, a bad one, or claims that are not ours: one answer for all, 401. */
  handleRequest<TUser = AuthUser>(error: unknown, user: TUser | false): TUser {
    if (error || !user) throw new DomainError(ErrorCode.UNAUTHORIZED, 'A valid Bearer token is required');
    return user;
  }
}
