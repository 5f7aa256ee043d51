import Redis, { Cluster } from 'ioredis';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { REDIS, type RedisClient } from '../../redis/redis.module';
import { couponKeys } from './coupon-keys';

/**
 * How long an accepted request waits for a replica to hold it before the answer is 503, asked in
 * slices. A replica acknowledges only after its own append-only file took the write, so one fsync
 * on a busy disk can take longer than a slice; between slices the master is asked again whether it
 * still has a replica in sync, so a replica that went away stops the wait.
 */
const REPLICA_WAIT_MS = 2000;
const REPLICA_WAIT_SLICE_MS = 500;

/** Whether what was written for a coupon is held by a second Redis node (a cluster's replica). */
@Injectable()
export class ReplicaConfirmation {
  private readonly logger = new Logger(ReplicaConfirmation.name);
  /** Replicas connected to each master, as last asked. */
  private readonly replicaCounts = new Map<string, { count: number; at: number }>();
  /** Each coupon's cluster slot (it never changes). */
  private readonly slots = new Map<number, number>();

  constructor(@Inject(REDIS) private readonly redis: RedisClient) {}

  /**
   * On a Redis Cluster with replicas: waits until at least one replica of the coupon's master holds
   * every write sent to that master so far on this connection (WAIT, which counts per connection:
   * the reservation scripts went over this same one). False when none confirms within `withinMs`.
   * Redis replicates asynchronously, so without this a master that dies right after answering can
   * take an accepted request with it. One server, or a cluster without replicas: nothing to wait for.
   */
  async replicated(couponId: number, withinMs = REPLICA_WAIT_MS): Promise<boolean> {
    const cluster = this.redis;
    // (the master itself says whether it has replicas, below: the client's list of replica nodes
    // can be empty while they are there, so it does not decide)
    if (!(cluster instanceof Cluster)) return true;
    const key = couponKeys(couponId).meta;
    let slot = this.slots.get(couponId);
    if (slot === undefined) {
      slot = Number(await cluster.call('CLUSTER', 'KEYSLOT', key));
      this.slots.set(couponId, slot);
    }
    const owner = cluster.slots[slot]?.[0];
    const master = cluster.nodes('master').find((node) => `${node.options.host}:${node.options.port}` === owner);
    if (!master) return false; // the slot map is being refreshed (a failover): not confirmed
    // A master left without a replica in sync (its own just failed over to it, and the old one
    // has not rejoined, or is still taking its first full copy) cannot confirm anything: waiting
    // would refuse every request until one is. It then answers as one Redis server does, durable
    // by its append-only file; said once.
    for (let waited = 0; waited < withinMs; waited += REPLICA_WAIT_SLICE_MS) {
      if (!(await this.hasReplica(master, owner!))) return true;
      const slice = Math.min(REPLICA_WAIT_SLICE_MS, withinMs - waited);
      if (Number(await master.call('WAIT', 1, slice)) >= 1) return true;
    }
    return false;
  }

  /**
   * Whether this master has a replica online now (asked at most once a second per master). A
   * replica still in its full sync (state wait_bgsave or send_bulk) is connected but acknowledges
   * nothing until the copy is loaded, so it does not count.
   */
  private async hasReplica(master: Redis, name: string): Promise<boolean> {
    const known = this.replicaCounts.get(name);
    if (known && Date.now() - known.at < 1000) return known.count > 0;
    const info = String(await master.call('INFO', 'replication'));
    const count = info.match(/^slave\d+:.*state=online/gm)?.length ?? 0;
    if (count === 0 && (known?.count ?? 0) > 0)
      this.logger.warn(`Redis master ${name} has no replica in sync: accepted requests are not confirmed on a second node until one is`);
    this.replicaCounts.set(name, { count, at: Date.now() });
    return count > 0;
  }
}
