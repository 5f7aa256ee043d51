/**
 * A user a writer has just written: `inserted` when this write made the row (not a no-op);
 * `askedAt` (ms) when their request was made, at the latest (a give-back recorded after it is
 * evidence that a row made now is one they gave back).
 */
export interface Written {
  userId: number;
  inserted: boolean;
  askedAt: number;
}
