import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { ISSUE_QUEUE } from '../../src/issuance/queue/issue-queue';
import { QueueShards } from '../../src/issuance/queue/queue-shards';
import { TEST_REDIS_URL } from '../setup/test-env';
import type { TestApp } from './test-app';

/** Waits until nothing of the coupon is pending and its counter matches its rows; returns its stats. */
export async function untilIdle(t: Pick<TestApp, 'http'>, admin: string, couponId: number, withinMs = 60_000) {
  for (const started = Date.now(); Date.now() - started < withinMs; await sleep(100)) {
    const stats = (await t.http('GET', `/coupons/${couponId}/stats`, { token: admin })).body;
    if (stats.pending === 0 && stats.issuedQuantity === stats.issuedRows) return stats;
  }
  throw new Error(`coupon ${couponId} still has pending requests after ${withinMs} ms`);
}

/** The queue of the one shard a single Redis has by default (no QUEUE_SHARDS). */
export const singleShardQueue = (redisUrl = TEST_REDIS_URL) =>
  new Queue(ISSUE_QUEUE, { connection: new Redis(redisUrl), prefix: new QueueShards(1).prefixes[0] });

/** Waits until `n` worker processes consume the queue (they boot from source, which takes seconds). */
export async function untilWorkersConnected(n: number, redisUrl = TEST_REDIS_URL): Promise<void> {
  const queue = singleShardQueue(redisUrl);
  try {
    for (let i = 0; i < 600 && (await queue.getWorkers()).length < n; i++) await sleep(100);
    expect((await queue.getWorkers()).length).toBeGreaterThanOrEqual(n);
  } finally {
    await queue.close();
    (await queue.client).disconnect();
  }
}

/**
 * Coupons made by `create` until every shard has at least `perShard` of them (ids come in
 * sequence, and their slots scatter over the shards); all of them, in the order made.
 */
export async function couponsOnEveryShard(shards: QueueShards, perShard: number, create: (i: number) => Promise<number>): Promise<number[]> {
  const ids: number[] = [];
  const short = () => shards.prefixes.some((_, k) => ids.filter((id) => shards.of(id) === k).length < perShard);
  while (short()) {
    if (ids.length >= 100) throw new Error(`100 coupons and still not ${perShard} on every one of ${shards.count} shards`);
    ids.push(await create(ids.length));
  }
  return ids;
}
