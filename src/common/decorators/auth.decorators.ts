import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { AuthUser, Role } from '../auth-user';
import { ErrorCode } from '../errors/error-code';
import { ApiErrors } from './api-errors.decorator';

export const IS_PUBLIC = 'auth:public';
export const REQUIRED_ROLE = 'auth:role';

/** The route needs no token. */
export const Public = () => SetMetadata(IS_PUBLIC, true);
/** The route needs a token of this role (on top of being authenticated); others get 403 FORBIDDEN. */
export const RequireRole = (role: Role) => applyDecorators(SetMetadata(REQUIRED_ROLE, role), ApiErrors(ErrorCode.FORBIDDEN));

/** The authenticated user, as read from the verified token. */
export const CurrentUser = createParamDecorator((_: unknown, ctx: ExecutionContext): AuthUser => ctx.switchToHttp().getRequest<{ user: AuthUser }>().user);
