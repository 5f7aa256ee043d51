import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { IS_PUBLIC, REQUIRED_ROLE } from '../common/decorators/auth.decorators';
import { DomainError } from '../common/errors/domain.error';
import { ErrorCode } from '../common/errors/error-code';
import { UserLookup } from '../users/user-lookup';
import type { Role } from '../common/auth-user';
import type { AuthUser } from '../common/auth-user';
import { TokenService } from './token.service';

/**
 * Global guard: every route needs a valid Bearer token unless marked @Public(), and a route
 * marked @RequireRole('admin') needs that role too (401 before 403). The token's user must still
 * exist, and the role checked is the one they hold now, not the one the token was signed with.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenService,
    private readonly users: UserLookup,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest & { user?: AuthUser }>();
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    const token = match ? this.tokens.verify(match[1]) : undefined;
    if (!token) throw new DomainError(ErrorCode.UNAUTHORIZED, 'A valid Bearer token is required');
    const role = await this.users.currentRole(token.id);
    if (!role) throw new DomainError(ErrorCode.UNAUTHORIZED, 'The user of this token no longer exists');
    const required = this.reflector.getAllAndOverride<Role | undefined>(REQUIRED_ROLE, targets);
    if (required && role !== required) throw new DomainError(ErrorCode.FORBIDDEN, `This needs the ${required} role`);
    request.user = { id: token.id, role };
    return true;
  }
}
