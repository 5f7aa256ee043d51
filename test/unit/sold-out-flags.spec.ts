import { SoldOutFlags } from '../../src/issuance/sold-out/sold-out-flags';

/** The flags' rules, on a clock of the test's own: the hard bound, the race with a change, the signal's health. */
describe('SoldOutFlags', () => {
  const TTL = 100;
  let now: number;
  let signal: { live: boolean };
  let flags: SoldOutFlags;
  const holders = async () => new Set([1, 2]);
  /** Lets the holder load (a resolved promise) finish. */
  const settle = () => new Promise((resolve) => setImmediate(resolve));

  beforeEach(() => {
    now = 1_000_000;
    signal = { live: true };
    flags = new SoldOutFlags(signal, { ttlMs: TTL, maxHolders: 10, now: () => now });
  });

  async function flagged(couponId = 7) {
    flags.soldOut(couponId, flags.generation(couponId), holders);
    await settle();
  }

  it('refuses everyone but the holders, and only the flagged coupon', async () => {
    await flagged();
    expect(flags.refuses(7, 3)).toBe(true);
    expect(flags.refuses(7, 1)).toBe(false);
    expect(flags.refuses(8, 3)).toBe(false);
  });

  it('lives ttlMs at most, heard or not', async () => {
    await flagged();
    now += TTL - 1;
    expect(flags.refuses(7, 3)).toBe(true);
    now += 1;
    expect(flags.refuses(7, 3)).toBe(false);
  });

  it('once expired, a SOLD_OUT asked with nothing heard since re-arms it without reading the holders again', async () => {
    await flagged();
    now += TTL;
    expect(flags.refuses(7, 3)).toBe(false);
    const reads = jest.fn(holders);
    flags.soldOut(7, flags.generation(7), reads);
    await settle();
    expect(reads).not.toHaveBeenCalled();
    expect(flags.refuses(7, 3)).toBe(true);
    expect(flags.refuses(7, 1)).toBe(false); // the same holders
    now += TTL;
    flags.changed(7); // stock may be back: the next flag reads the holders afresh
    flags.soldOut(7, flags.generation(7), reads);
    await settle();
    expect(reads).toHaveBeenCalledTimes(1);
  });

  it('is dropped by a change heard for its coupon, kept for another', async () => {
    await flagged(7);
    await flagged(8);
    flags.changed(7);
    expect(flags.refuses(7, 3)).toBe(false);
    expect(flags.refuses(8, 3)).toBe(true);
  });

  it('is not set when a change was heard between the request and its SOLD_OUT answer', async () => {
    const asked = flags.generation(7);
    flags.changed(7); // e.g. a give-back elsewhere, while the request was in flight
    flags.soldOut(7, asked, holders);
    await settle();
    expect(flags.refuses(7, 3)).toBe(false);
  });

  it('is not set when a change is heard while its holders are being read', async () => {
    let read!: (h: Set<number>) => void;
    flags.soldOut(7, flags.generation(7), () => new Promise((resolve) => (read = resolve)));
    flags.changed(7);
    read(new Set([1]));
    await settle();
    expect(flags.refuses(7, 3)).toBe(false);
  });

  it('refuses nothing while the signal is not live, and forgets everything on a reset', async () => {
    await flagged();
    signal.live = false;
    expect(flags.refuses(7, 3)).toBe(false);
    signal.live = true;
    flags.reset();
    expect(flags.refuses(7, 3)).toBe(false);
    const before = flags.generation(7);
    flags.reset();
    expect(flags.generation(7)).not.toBe(before); // an answer from before a reset sets nothing
  });

  it('sets no flag for a coupon with more holders than maxHolders, or when the holders cannot be read', async () => {
    flags.soldOut(7, flags.generation(7), async () => new Set(Array.from({ length: 11 }, (_, i) => i)));
    flags.soldOut(8, flags.generation(8), async () => Promise.reject(new Error('Redis down')));
    await settle();
    expect(flags.refuses(7, 99)).toBe(false);
    expect(flags.refuses(8, 99)).toBe(false);
  });
});
