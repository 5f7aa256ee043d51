/**
 * Injection token of the rate limits' counts (a ThrottlerStorage): in Redis, shared by every
 * instance, or in the process (see SharedStateModule).
 */
export const RATE_LIMIT_STORAGE = Symbol('RATE_LIMIT_STORAGE');
