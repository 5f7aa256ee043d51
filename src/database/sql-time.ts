/**
 * A timestamptz as ms since the epoch, in SQL. The service's stamps and withdrawal times are ms on
 * the coupon's Redis clock, stored with to_timestamp(ms / 1000.0); every read of one back goes
 * through this one expression, so values read in different queries compare exactly.
 */
export const epochMs = (timestamp: string): string => `round(extract(epoch FROM ${timestamp}) * 1000)::bigint`;
