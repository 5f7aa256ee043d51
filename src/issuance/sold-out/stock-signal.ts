/**
 * The channel on which "stock of coupon N may be back" is announced, in Redis (by the Lua scripts
 * that give a unit back or change a coupon; the message names the coupon's meta key,
 * `coupon:{N}:meta`) and in PostgreSQL (NOTIFY from triggers; the payload is N).
 */
export const STOCK_CHANNEL = 'coupon-stock';
export const STOCK_CHANNEL_PG = 'coupon_stock';

/** The coupon a stock message is about: its `{N}` hash tag, or the bare id. */
export function couponOfMessage(message: string): number | undefined {
  const id = Number(/\{(\d+)\}/.exec(message)?.[1] ?? message);
  return Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

export interface StockListener {
  /** Stock of this coupon may have come back, or the coupon changed (any process, any instance). */
  changed(couponId: number): void;
  /** Messages may have been missed (the subscription dropped): forget every conclusion. */
  reset(): void;
}

/**
 * Where an API process hears that a coupon's stock may be back: Redis pub/sub where the strategy
 * keeps its stock in Redis, PostgreSQL LISTEN/NOTIFY where it keeps it in PostgreSQL. `live` is
 * true only while subscribed: a process that cannot hear changes must not trust what it concluded.
 */
export abstract class StockSignal {
  abstract readonly live: boolean;
  abstract listen(listener: StockListener): Promise<void>;
  abstract close(): Promise<void>;
}
