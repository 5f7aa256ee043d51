/**
 * Who is calling: the vocabulary that guards, decorators and controllers share. It lives here, at
 * the bottom of the import graph, so that `common/` needs nothing from the feature modules.
 */
export const ROLES = ['user', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** The authenticated user of a request, as read from a verified token. */
export interface AuthUser {
  id: number;
  role: Role;
}

/** The user a verified token names, with when it was issued (`iat`, seconds): what revocation compares. */
export interface TokenUser extends AuthUser {
  issuedAt: number;
}
