import { Inject, Injectable } from '@nestjs/common';
import { REDIS, type RedisClient } from '../../redis/redis.module';
import { couponKeys } from './coupon-keys';

/**
 * The bookkeeping of accepted requests (queue) not yet settled: `coupon:{id}:pending`, user ->
 * `acceptedAt[:jobId]` (reserve.lua records it in the step that reserves; settle.lua, release.lua
 * and restore-holder.lua clear it), and why a settled one was rejected, if it was.
 */
@Injectable()
export class PendingRequests {
  constructor(@Inject(REDIS) private readonly redis: RedisClient) {}

  /** Marks pending requests with the job that will write them: `acceptedAt:jobId`. */
  async markQueued(couponId: number, userIds: number[], jobId: string): Promise<void> {
    const stamp = `${Date.now()}:${jobId}`;
    await this.redis.hset(couponKeys(couponId).pending, Object.fromEntries(userIds.map((u) => [String(u), stamp])));
  }

  /** Accepted requests not yet settled: user id -> when accepted (ms) and the job meant to write it, if any yet. */
  async all(couponId: number): Promise<Map<number, { acceptedAt: number; jobId?: string }>> {
    const all = await this.redis.hgetall(couponKeys(couponId).pending);
    return new Map(
      Object.entries(all).map(([user, value]) => {
        const [at, jobId] = value.split(':');
        return [Number(user), { acceptedAt: Number(at), jobId: jobId || undefined }];
      }),
    );
  }

  async count(couponId: number): Promise<number> {
    return this.redis.hlen(couponKeys(couponId).pending);
  }

  async isPending(couponId: number, userId: number): Promise<boolean> {
    return (await this.redis.hexists(couponKeys(couponId).pending, String(userId))) === 1;
  }

  /** Why the user's accepted request was rejected, if it was (kept a day). */
  async rejection(couponId: number, userId: number): Promise<string | null> {
    return this.redis.hget(couponKeys(couponId).rejected, String(userId));
  }

  /** A request settled without a row of its own (its row was one its user has given back since). */
  async forget(couponId: number, userId: number): Promise<void> {
    await this.redis.hdel(couponKeys(couponId).pending, String(userId));
  }
}
