import { setTimeout as sleep } from 'node:timers/promises';
import { unavailable } from '../common/errors/domain.error';
import { isRetryableTransactionError } from './postgres-errors';

export interface RetryOptions {
  attempts: number;
  /** Upper bound of the first back-off; it doubles per attempt (full jitter). */
  baseDelayMs: number;
  /** Extra errors, besides serialization failures and deadlocks, worth another attempt. */
  retryIf?: (error: unknown) => boolean;
}

/**
 * Runs a transaction again when PostgreSQL failed it only for concurrency (40001, 40P01): such a
 * transaction changed nothing, so repeating it is safe. Bounded, with full jitter so that the
 * losers of one round do not collide again in the next. Past the bound the answer is 503.
 */
export async function retryTransaction<T>(run: () => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      const retryable = isRetryableTransactionError(error) || (options.retryIf?.(error) ?? false);
      if (!retryable) throw error;
      if (attempt >= options.attempts) throw unavailable(`still contended after ${attempt} attempts`);
      await sleep(Math.random() * options.baseDelayMs * 2 ** (attempt - 1));
    }
  }
}
