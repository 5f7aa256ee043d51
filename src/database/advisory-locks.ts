/**
 * PostgreSQL advisory lock keys, in one place so that no two uses can collide. The numbers are
 * arbitrary; every process of the service must agree on them.
 */
export const ADVISORY_LOCK = {
  /** One key: whoever holds it runs the migrations (run-migrations.ts). */
  migrations: 727_001,
  /** First of two keys (the second is the coupon id): the queue of pessimistic issuers of one coupon. */
  issuersOfCoupon: 727_002,
  /**
   * First of two keys (the second is the coupon id): writers of the coupon's rows hold it shared
   * for their statement; a rebuild of the coupon's Redis state holds it exclusive from its read of
   * PostgreSQL until its install in Redis, so no write commits unseen in between.
   */
  rowsOfCoupon: 727_003,
  /** One key: whoever holds it gives events their feed positions (EventFeed), one run at a time. */
  eventPositions: 727_004,
  /**
   * First of two keys (the second is the coupon id): an admin change of the coupon holds it
   * exclusive from its guard in Redis to its listeners' step (coupon-change-lock.ts); a rebuild of
   * the coupon's Redis state holds it shared, so it never reads PostgreSQL in the middle of one.
   */
  changesOfCoupon: 727_005,
} as const;
