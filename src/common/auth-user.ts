/**
 * Who is calling: the vocabulary that guards, decorators and controllers share. It lives here, at
 * the bottom of the import graph, so that `common/` needs nothing from the feature modules.
 */
export const ROLES = ['user', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/**
 * The authenticated caller of a request, as read from a verified token. A service key (`keyId`)
 * reaches only the routes its scopes name, where it acts as an admin would (id 0: no user).
 */
export interface AuthUser {
  id: number;
  role: Role;
  keyId?: number;
}

/**
 * The user a verified token names, with the token generation it was signed with (`gen`): what
 * revocation compares. Absent for a token of the shop's identity provider, whose revocation is the
 * provider's (it lives until its `exp`).
 */
export interface TokenUser extends AuthUser {
  generation?: number;
}
