import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { AuthUser } from '../../auth/token.service';
import type { Role } from '../../users/user.entity';

export const IS_PUBLIC = 'auth:public';
export const REQUIRED_ROLE = 'auth:role';

/** The route needs no token. */
export const Public = () => SetMetadata(IS_PUBLIC, true);
/** The route needs a token of this role (on top of being authenticated). */
export const RequireRole = (role: Role) => SetMetadata(REQUIRED_ROLE, role);

/** The authenticated user, as read from the verified token. */
export const CurrentUser = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): AuthUser => ctx.switchToHttp().getRequest<{ user: AuthUser }>().user,
);
