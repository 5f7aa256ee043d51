/**
 * Hits per key in the process, in fixed windows that start at a key's first hit: the count
 * reserve.lua keeps in Redis, for a strategy that has no Redis. A key is forgotten within one
 * window after its window ends (a sweep every window), so memory holds about the keys of the last
 * two windows, whatever the crowd.
 */
export class FixedWindowCounter {
  private readonly windows = new Map<string, { hits: number; endsAt: number }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly windowMs: number) {
    this.sweeper = setInterval(() => this.sweep(Date.now()), windowMs).unref();
  }

  /** Counts a hit of `key`; false once it has had more than `limit` in its window. */
  admit(key: string, limit: number, now = Date.now()): boolean {
    const window = this.windows.get(key);
    if (!window || window.endsAt <= now) {
      this.windows.set(key, { hits: 1, endsAt: now + this.windowMs });
      return limit >= 1;
    }
    return ++window.hits <= limit;
  }

  get size(): number {
    return this.windows.size;
  }

  private sweep(now: number): void {
    for (const [key, window] of this.windows) if (window.endsAt <= now) this.windows.delete(key);
  }

  close(): void {
    clearInterval(this.sweeper);
  }
}
