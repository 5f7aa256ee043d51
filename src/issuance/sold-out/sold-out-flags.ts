import type { StockListener, StockSignal } from './stock-signal';

/**
 * What a process concluded from a SOLD_OUT answer: who held the coupon then, until when to trust
 * it, and the coupon's generation then. Past `until` it refuses nothing, but stays: a later
 * SOLD_OUT asked at the same generation (nothing heard since) re-arms it without reading the
 * holders again, since nobody can have become one without a change being announced.
 */
interface Flag {
  until: number;
  holders: Set<number>;
  generation: string;
}

/** Coupons with a flag kept at most (the oldest set goes first): each holds its holders' ids. */
const MAX_FLAGS = 1000;
/** An expired flag not re-armed within this long is forgotten. */
const KEEP_EXPIRED_MS = 10_000;

export interface SoldOutFlagOptions {
  /** The hard bound on a flag's life: past it, the next request asks the strategy again. */
  ttlMs: number;
  /** Coupons with more holders than this get no flag (the snapshot would cost more than it saves). */
  maxHolders: number;
  now?: () => number;
}

/**
 * Per coupon, in this process: "sold out, and these users hold it". While a flag stands, a request
 * from anyone else is answered SOLD_OUT here, without Redis or PostgreSQL; a holder's request goes
 * on to the strategy (their answer is ALREADY_ISSUED, or the issue again for an Idempotency-Key).
 *
 * Stock can come back (a give-back, a revocation, a released reservation, a raised total, a
 * reconcile), so a flag is dropped when the StockSignal says the coupon changed anywhere, and
 * lives `ttlMs` at most whatever it hears. Flags are used only while the signal is live. A flag is
 * set from a SOLD_OUT answer only if nothing was heard about the coupon since before that request
 * was asked (its generation), so a change racing the answer cannot leave a stale flag behind.
 */
export class SoldOutFlags implements StockListener {
  private readonly flags = new Map<number, Flag>();
  /** Bumped by every change heard, per coupon; `epoch` by every reset. */
  private readonly generations = new Map<number, number>();
  private epoch = 0;
  private readonly loading = new Set<number>();
  private readonly now: () => number;

  constructor(
    private readonly signal: Pick<StockSignal, 'live'>,
    private readonly options: SoldOutFlagOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** A token to pass to `soldOut` if the request this is read for ends SOLD_OUT. */
  generation(couponId: number): string {
    return `${this.epoch}:${this.generations.get(couponId) ?? 0}`;
  }

  /** True when this user's request can be answered SOLD_OUT now, here. */
  refuses(couponId: number, userId: number): boolean {
    if (!this.signal.live) return false;
    const flag = this.flags.get(couponId);
    if (!flag) return false;
    const now = this.now();
    if (flag.until <= now) {
      if (now - flag.until > KEEP_EXPIRED_MS) this.flags.delete(couponId);
      return false; // expired: the strategy answers, and may re-arm it
    }
    return !flag.holders.has(userId);
  }

  /**
   * A request asked at `generation` was answered SOLD_OUT: flag the coupon, with its holders as
   * `loadHolders` reads them (undefined: too many, no flag). One load per coupon at a time.
   */
  soldOut(couponId: number, generation: string, loadHolders: () => Promise<Set<number> | undefined>): void {
    if (!this.signal.live || generation !== this.generation(couponId)) return;
    const standing = this.flags.get(couponId);
    if (standing?.generation === generation) {
      standing.until = this.now() + this.options.ttlMs;
      return;
    }
    if (this.loading.has(couponId)) return;
    const until = this.now() + this.options.ttlMs;
    this.loading.add(couponId);
    loadHolders()
      .then((holders) => {
        if (holders && holders.size <= this.options.maxHolders && this.generation(couponId) === generation && this.signal.live) {
          this.flags.set(couponId, { until, holders, generation });
          if (this.flags.size > MAX_FLAGS) this.flags.delete(this.flags.keys().next().value!);
        }
      })
      .catch(() => undefined) // no flag: requests go on to the strategy, as without this
      .finally(() => this.loading.delete(couponId));
  }

  changed(couponId: number): void {
    this.generations.set(couponId, (this.generations.get(couponId) ?? 0) + 1);
    this.flags.delete(couponId);
  }

  reset(): void {
    this.epoch++;
    this.generations.clear();
    this.flags.clear();
  }
}
