import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { IS_PUBLIC, REQUIRED_ROLE } from '../common/decorators/auth.decorators';
import { DomainError } from '../common/errors/domain.error';
import { ErrorCode } from '../common/errors/error-code';
import type { Role } from '../users/user.entity';
import { AuthUser, TokenService } from './token.service';

/**
 * Global guard: every route needs a valid Bearer token unless marked @Public(), and a route
 * marked @RequireRole('admin') needs that role too (401 before 403).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenService,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest & { user?: AuthUser }>();
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    const user = match ? this.tokens.verify(match[1]) : undefined;
    if (!user) throw new DomainError(ErrorCode.UNAUTHORIZED, 'A valid Bearer token is required');
    const role = this.reflector.getAllAndOverride<Role | undefined>(REQUIRED_ROLE, targets);
    if (role && user.role !== role) throw new DomainError(ErrorCode.FORBIDDEN, `This needs the ${role} role`);
    request.user = user;
    return true;
  }
}
