/**
 * What a service key may do, one scope per kind of back-end work (Service keys). It lives in
 * `common/` beside the caller's vocabulary: routes declare the scope they accept (@KeyScope).
 */
export const API_KEY_SCOPES = ['issues:redeem', 'coupons:read', 'coupons:write', 'events:read'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];
