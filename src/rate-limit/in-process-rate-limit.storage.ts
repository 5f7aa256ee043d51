import { ThrottlerStorageService } from '@nestjs/throttler';

/**
 * The library's in-process counters (pessimistic runs without Redis), swept every second instead
 * of every minute. Each user who asks leaves a record until the sweep; at thousands of new users
 * a second, a minute's worth was a few hundred thousand records, tens of MB held for nothing
 * (pessimistic's memory sat visibly above redis' in the bench). A sweep walks the live records
 * only, which at a one-second window are the last second's users.
 */
export class PromptlySweptRateLimitStorage extends ThrottlerStorageService {
  protected readonly sweepIntervalMs = 1000;
}
