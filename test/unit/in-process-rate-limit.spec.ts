import { until } from '../support/burst';
import { PromptlySweptRateLimitStorage } from '../../src/rate-limit/in-process-rate-limit.storage';

describe('the in-process rate-limit storage', () => {
  it('counts as the library does, and forgets a window within about a second of its end (the library: a minute)', async () => {
    const storage = new PromptlySweptRateLimitStorage();
    try {
      const first = await storage.increment('user:1', 200, 2, 0, 'issue');
      const third = (await storage.increment('user:1', 200, 2, 0, 'issue'), await storage.increment('user:1', 200, 2, 0, 'issue'));
      expect(first.totalHits).toBe(1);
      expect(third.isBlocked).toBe(true);
      for (let i = 0; i < 5000; i++) await storage.increment(`user:${i + 2}`, 200, 10, 0, 'issue');
      expect(storage.storage.size).toBe(5001);
      await until(async () => (storage.storage.size === 0 ? true : undefined), { timeoutMs: 5_000, everyMs: 50, what: 'the records to be swept' });
    } finally {
      storage.onApplicationShutdown();
    }
  });
});
