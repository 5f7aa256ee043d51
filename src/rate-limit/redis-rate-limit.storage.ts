import type { RedisClient } from '../redis/redis.module';
import type { ThrottlerStorage } from '@nestjs/throttler';

/** ThrottlerStorage's record shape (its module path is internal to @nestjs/throttler). */
interface ThrottlerStorageRecord {
  totalHits: number;
  timeToExpire: number;
  isBlocked: boolean;
  timeToBlockExpire: number;
}

/** Fixed window: the first hit starts it, every hit counts, the key expires with the window. */
const HIT_LUA = `
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {hits, redis.call('PTTL', KEYS[1])}`;

/**
 * Rate-limit counts in Redis, shared by every instance. It replaces @nest-lab/throttler-storage-redis
 * on the hot path: that storage sends its whole Lua source with EVAL on every request, a measurable
 * share of issue throughput (bench/README.md). This one is a four-line script called by EVALSHA.
 */
export class RedisRateLimitStorage implements ThrottlerStorage {
  constructor(private readonly redis: RedisClient) {
    redis.defineCommand('rateLimitHit', { numberOfKeys: 1, lua: HIT_LUA });
  }

  async increment(key: string, ttlMs: number, limit: number): Promise<ThrottlerStorageRecord> {
    const [hits, pttl] = await (this.redis as unknown as { rateLimitHit(k: string, ttl: number): Promise<[number, number]> }).rateLimitHit(
      `ratelimit:{${key}}`,
      ttlMs,
    );
    const seconds = Math.max(1, Math.ceil(pttl / 1000));
    return { totalHits: hits, timeToExpire: seconds, isBlocked: hits > limit, timeToBlockExpire: hits > limit ? seconds : 0 };
  }
}
