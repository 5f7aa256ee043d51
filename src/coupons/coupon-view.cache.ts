import { Inject, Injectable, Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import { REDIS } from '../redis/redis.module';
import type { CouponView } from './coupon.view';

/** How stale a cached campaign may be: its counters move with every issue. */
const TTL_MS = 1000;
const key = (couponId: number) => `coupon:{${couponId}}:view`;

/**
 * GET /coupons/:id from Redis, for the campaign page that a flash crowd refreshes. A change made
 * through the API drops the entry at once; the counters may trail by up to TTL_MS. Without Redis
 * (the pessimistic strategy), or when Redis fails, reads go to PostgreSQL: the cache never
 * turns an outage into an error.
 */
@Injectable()
export class CouponViewCache {
  private readonly logger = new Logger(CouponViewCache.name);

  constructor(@Inject(REDIS) private readonly redis: Redis | null) {}

  async get(couponId: number): Promise<CouponView | undefined> {
    if (!this.redis) return undefined;
    try {
      const cached = await this.redis.get(key(couponId));
      return cached ? (JSON.parse(cached) as CouponView) : undefined;
    } catch {
      return undefined;
    }
  }

  async set(view: CouponView): Promise<void> {
    await this.redis?.set(key(view.id), JSON.stringify(view), 'PX', TTL_MS).catch(() => undefined);
  }

  async invalidate(couponId: number): Promise<void> {
    await this.redis?.del(key(couponId)).catch((error: Error) => this.logger.warn(`could not drop cached coupon ${couponId}: ${error.message}`));
  }
}
