import calculateSlot from 'cluster-key-slot';
import { Cluster } from 'ioredis';
import type { RedisClient } from '../../redis/redis.module';

const SLOTS = 16_384;

/**
 * The issue queue, cut into `count` BullMQ queues. BullMQ keeps each queue in one hash slot (its
 * scripts touch many keys of the queue at once), so one queue is one master's work. Shard k owns
 * the k-th of `count` equal ranges of slots: its prefix is a hash tag found to hash into that
 * range, and a coupon goes to the shard whose range holds the coupon's own slot ({N}). On a
 * cluster laid out in equal ranges (what `redis-cli --cluster create` does) with one shard per
 * master, a coupon's jobs then live on the master that holds its reservations: its accept path
 * touches one master, and one master's failover takes one shard's coupons through it, not all.
 * The mapping is a pure function of `count`, so every process computes the same one.
 */
export class QueueShards {
  readonly prefixes: readonly string[];

  constructor(readonly count: number) {
    this.prefixes = Array.from({ length: count }, (_, k) => `{${tagInRange(k, count)}}`);
  }

  /** The shard of a coupon's jobs. */
  of(couponId: number): number {
    return Math.floor((calculateSlot(String(couponId)) * this.count) / SLOTS);
  }

  prefixOf(couponId: number): string {
    return this.prefixes[this.of(couponId)];
  }
}

/** `coupon-issue-k`, or the first `coupon-issue-k-j` whose slot lies in shard k's range. */
function tagInRange(k: number, count: number): string {
  const inRange = (tag: string) => Math.floor((calculateSlot(tag) * count) / SLOTS) === k;
  if (inRange(`coupon-issue-${k}`)) return `coupon-issue-${k}`;
  for (let j = 1; ; j++) if (inRange(`coupon-issue-${k}-${j}`)) return `coupon-issue-${k}-${j}`;
}

/** QUEUE_SHARDS when set; otherwise one on a single Redis, one per master on a cluster. */
export function queueShardsFor(configured: number | undefined, redis: RedisClient): QueueShards {
  if (configured) return new QueueShards(configured);
  return new QueueShards(redis instanceof Cluster ? Math.max(1, redis.nodes('master').length) : 1);
}
