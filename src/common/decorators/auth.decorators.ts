import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { ApiKeyScope } from '../api-key-scopes';
import type { AuthUser, Role } from '../auth-user';
import { ErrorCode } from '../errors/error-code';
import { ApiErrors } from './api-errors.decorator';

export const IS_PUBLIC = 'auth:public';
export const REQUIRED_ROLE = 'auth:role';
export const KEY_SCOPE = 'auth:key-scope';

/** The route needs no token. */
export const Public = () => SetMetadata(IS_PUBLIC, true);
/** The route needs a token of this role (on top of being authenticated); others get 403 FORBIDDEN. */
export const RequireRole = (role: Role) => applyDecorators(SetMetadata(REQUIRED_ROLE, role), ApiErrors(ErrorCode.FORBIDDEN));

/**
 * A service key with this scope may call the route too (Service keys); a key without it, or on a
 * route without @KeyScope, gets 403 FORBIDDEN.
 */
export const KeyScope = (scope: ApiKeyScope) => applyDecorators(SetMetadata(KEY_SCOPE, scope), ApiErrors(ErrorCode.FORBIDDEN));

/** The authenticated user, as read from the verified token. */
export const CurrentUser = createParamDecorator((_: unknown, ctx: ExecutionContext): AuthUser => ctx.switchToHttp().getRequest<{ user: AuthUser }>().user);
