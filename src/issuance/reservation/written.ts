/**
 * A user a writer has just written: `inserted` when this write made the row (not a no-op);
 * `requestStamp` (ms, the coupon's Redis clock) the accepted request it honours, which names that
 * request in a give-back's record and orders it against a withdrawal; undefined when unknown.
 */
export interface Written {
  userId: number;
  inserted: boolean;
  requestStamp?: number;
}
