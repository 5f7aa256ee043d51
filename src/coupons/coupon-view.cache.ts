import type { RedisClient } from '../redis/redis.module';
import { Logger } from '@nestjs/common';
import type { CouponView } from './coupon.view';

/** How stale a cached coupon may be: its counters move with every issue. */
const TTL_MS = 1000;
const key = (couponId: number) => `coupon:{${couponId}}:view`;

/**
 * GET /coupons/:id from a cache, for the coupon page that a flash crowd refreshes. A change made
 * through the API drops the entry at once; the counters may trail by up to TTL_MS. A cache never
 * turns an outage into an error: a failing read is a miss.
 */
export abstract class CouponViewCache {
  abstract get(couponId: number): Promise<CouponView | undefined>;
  abstract set(view: CouponView): Promise<void>;
  abstract invalidate(couponId: number): Promise<void>;
}

/** In Redis, shared by every instance. */
export class RedisCouponViewCache extends CouponViewCache {
  private readonly logger = new Logger('CouponViewCache');

  constructor(private readonly redis: RedisClient) {
    super();
  }

  async get(couponId: number): Promise<CouponView | undefined> {
    try {
      const cached = await this.redis.get(key(couponId));
      return cached ? (JSON.parse(cached) as CouponView) : undefined;
    } catch {
      return undefined;
    }
  }

  async set(view: CouponView): Promise<void> {
    await this.redis.set(key(view.id), JSON.stringify(view), 'PX', TTL_MS).catch(() => undefined);
  }

  async invalidate(couponId: number): Promise<void> {
    await this.redis.del(key(couponId)).catch((error: Error) => this.logger.warn(`could not drop cached coupon ${couponId}: ${error.message}`));
  }
}

/** Without Redis (the pessimistic strategy): every read goes to PostgreSQL. */
export class NoCouponViewCache extends CouponViewCache {
  async get(): Promise<undefined> {
    return undefined;
  }

  async set(): Promise<void> {}

  async invalidate(): Promise<void> {}
}
