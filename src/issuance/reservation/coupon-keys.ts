/**
 * Redis keys of one coupon. The `{id}` hash tag puts them all in one Redis Cluster slot, which
 * multi-key scripts require.
 */
export function couponKeys(couponId: number) {
  const tag = `coupon:{${couponId}}`;
  return {
    /** hash: total, status, starts (ms or ''), ends (ms or ''), taken (= SCARD holders), server (the Redis it was installed on) */
    meta: `${tag}:meta`,
    /** set: user ids holding or reserving this coupon */
    holders: `${tag}:holders`,
    /** set: holders being loaded by a rebuild, swapped in by install-state.lua */
    staged: (nonce: string) => `${tag}:staged:${nonce}`,
    /** hash: user id -> accepted-at ms, for requests accepted (202) but not yet settled (queue) */
    pending: `${tag}:pending`,
    /** hash: user id -> reason, for accepted requests that ended REJECTED (queue; expires in a day) */
    rejected: `${tag}:rejected`,
    /** set: user ids whose pending request was withdrawn (queue); the worker that writes it takes it back */
    withdrawn: `${tag}:withdrawn`,
    /** hash: user id -> their give-backs under way, one tombstone each ('<deadline ms>-<nonce>', space-separated; see give-back.lua) */
    returning: `${tag}:returning`,
  };
}

/** string: one user's requests for the coupon in the current rate-limit window (reserve.lua counts them). */
export function requestCountKey(couponId: number, userId: number): string {
  return `coupon:{${couponId}}:requests:${userId}`;
}
