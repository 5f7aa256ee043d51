import { FixedWindowCounter } from '../../src/rate-limit/fixed-window-counter';
import { until } from '../support/burst';

describe('FixedWindowCounter (the issue rate limit without Redis)', () => {
  it('admits `limit` hits of a key in its window, then refuses until the window ends; keys are counted apart', () => {
    const counter = new FixedWindowCounter(1000);
    try {
      const t0 = 1_000_000;
      const hits = Array.from({ length: 6 }, (_, i) => counter.admit('7:1', 4, t0 + i * 100));
      expect(hits).toEqual([true, true, true, true, false, false]);
      expect(counter.admit('7:2', 4, t0 + 600)).toBe(true); // another user
      expect(counter.admit('8:1', 4, t0 + 600)).toBe(true); // another coupon
      expect(counter.admit('7:1', 4, t0 + 999)).toBe(false);
      expect(counter.admit('7:1', 4, t0 + 1000)).toBe(true); // the window started at the first hit has ended
      expect(counter.admit('9:1', 0, t0)).toBe(false); // a limit of 0 admits nothing (callers skip the counter to mean "off")
    } finally {
      counter.close();
    }
  });

  it('forgets keys within about a window of their end, so a crowd of new users does not pile up', async () => {
    const counter = new FixedWindowCounter(100);
    try {
      for (let i = 0; i < 5000; i++) counter.admit(`1:${i}`, 10);
      expect(counter.size).toBe(5000);
      await until(async () => (counter.size === 0 ? true : undefined), { timeoutMs: 5_000, everyMs: 20, what: 'the windows to be swept' });
    } finally {
      counter.close();
    }
  });
});
