import { Queue } from 'bullmq';
import { Cluster } from 'ioredis';
import { IssuanceStrategyName } from '../../src/config/issuance.config';
import { ISSUE_QUEUE } from '../../src/issuance/queue/issue-queue';
import { QueueShards } from '../../src/issuance/queue/queue-shards';
import { fire, until, untilSettled } from '../support/burst';
import { countStatuses, couponFacts, expectCouponInvariants, expectHolders } from '../support/invariants';
import { PrivateRedisCluster } from '../../servers/private-redis-cluster';
import { couponsOnEveryShard, untilIdle } from '../support/queue-state';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * The strategies that keep state in Redis, on a real Redis Cluster (3 masters, 3 replicas):
 * REDIS_CLUSTER_NODES makes every client of the service a cluster client, and every key of coupon
 * N carries {N}, so each coupon's scripts run on the one master that owns its slot.
 */
const STRATEGIES: IssuanceStrategyName[] = ['redis', 'queue'];

describe('on a Redis Cluster', () => {
  const cluster = new PrivateRedisCluster();
  beforeAll(() => cluster.start(), 60_000);
  afterAll(() => cluster.stop());

  describe.each(STRATEGIES)('%s', (strategy) => {
    let t: TestApp;
    let admin: string;

    beforeAll(async () => {
      t = await startTestApp(strategy, { REDIS_URL: '', REDIS_CLUSTER_NODES: cluster.seeds });
      admin = await t.adminToken();
    });
    afterAll(() => t?.close());

    /** Everyone at once; a 202 counts as a yes once it settled ISSUED (nothing may end REJECTED). */
    async function burst(couponId: number, users: { userId: number; token: string }[]) {
      const results = await fire(t.http, couponId, users);
      for (const r of results.filter((x) => x.status === 202)) {
        const settled = await untilSettled(t.http, couponId, r.token);
        expect(settled.status).toBe('ISSUED');
        Object.assign(r, { status: 201 });
      }
      return results;
    }

    it('300 users at once on 100 coupons: exactly 100 issued, 200 SOLD_OUT; the state lives on the master of the coupon slot', async () => {
      const id = await t.createCoupon(admin, 100, `cluster ${strategy}`);
      const results = await burst(id, await t.users(300));
      expect(countStatuses(results)).toEqual({ 201: 100, 409: 200 });
      await expectHolders(t.sql, id, new Set(results.filter((r) => r.status === 201).map((r) => r.userId)));
      expect((await t.http('GET', `/coupons/${id}/stats`, { token: admin })).body).toMatchObject({ issuedRows: 100, redisReserved: 100, pending: 0 });
    });

    it('a give-back no replica confirms (the replicas stalled): 503, and the holder keeps the coupon; once they answer, the give-back goes through', async () => {
      // A master whose replica the service has not yet seen in sync (just after the cluster
      // formed, or asked less than a second ago) answers as one server does, unconfirmed: that
      // attempt's give-back goes through (204), and the case is tried again on a fresh coupon.
      const attempt = async () => {
        const id = await t.createCoupon(admin, 2, `cluster ${strategy} unreplicated give-back`);
        const [holder] = await t.users(1);
        expect(countStatuses(await burst(id, [holder]))).toEqual({ 201: 1 });
        await cluster.untilReplicasOnline(`coupon:{${id}}:meta`);
        const resume = await cluster.pauseReplicasOf(`coupon:{${id}}:meta`);
        try {
          const answer = await t.http('DELETE', `/coupons/${id}/issue`, { token: holder.token });
          return answer.status === 204 ? undefined : { id, holder, answer };
        } finally {
          resume();
        }
      };
      const { id, holder, answer } = await until(attempt, { what: 'a give-back while the replicas are stalled' });
      expect(answer).toMatchObject({ status: 503, body: { code: 'UNAVAILABLE' } });
      expect((await t.http('GET', `/coupons/${id}/stats`, { token: admin })).body).toMatchObject({ issuedRows: 1, redisReserved: 1 });
      await cluster.untilHealthy();
      await until(async () => ((await t.http('DELETE', `/coupons/${id}/issue`, { token: holder.token })).status === 204 ? true : undefined), {
        what: 'the give-back confirmed',
      });
      expect((await t.http('GET', `/coupons/${id}/stats`, { token: admin })).body).toMatchObject({ issuedRows: 0, redisReserved: 0 });
    });

    it('a replica that acknowledges late (stalled for 1 s, as a slow fsync on a busy disk does): the 202 and the give-back wait for it, no 503', async () => {
      const id = await t.createCoupon(admin, 5, `cluster ${strategy} slow replica`);
      await cluster.untilReplicasOnline(`coupon:{${id}}:meta`);
      const [user] = await t.users(1);
      /** Sends the request with the replicas stalled, and lets them go on a second later. */
      const withLateReplica = async (method: 'POST' | 'DELETE') => {
        const resume = await cluster.pauseReplicasOf(`coupon:{${id}}:meta`);
        const resumed = new Promise<void>((resolve) => setTimeout(() => resolve(resume()), 1000));
        const [answer] = await Promise.all([t.http(method, `/coupons/${id}/issue`, { token: user.token }), resumed]);
        return answer.status;
      };
      // the redis strategy's 201 stands on PostgreSQL's row, so only the queue's 202 waits for a replica
      const issued = strategy === 'queue' ? await withLateReplica('POST') : (await t.http('POST', `/coupons/${id}/issue`, { token: user.token })).status;
      expect(issued).toBe(strategy === 'queue' ? 202 : 201);
      if (strategy === 'queue') expect((await untilSettled(t.http, id, user.token)).status).toBe('ISSUED');
      await expectHolders(t.sql, id, new Set([user.userId]));
      expect(await withLateReplica('DELETE')).toBe(204);
      await expectHolders(t.sql, id, new Set());
    });

    it('eight coupons at once spread over the masters, each sold exactly; give-backs return units on the cluster too', async () => {
      const ids = await Promise.all(Array.from({ length: 8 }, (_, i) => t.createCoupon(admin, 20, `cluster ${strategy} ${i}`)));
      const masters = new Set(await Promise.all(ids.map((id) => cluster.masterPortOf(`coupon:{${id}}:meta`))));
      expect(masters.size).toBeGreaterThanOrEqual(2);
      const crowds = await Promise.all(ids.map(() => t.users(30)));
      const results = await Promise.all(ids.map((id, i) => burst(id, crowds[i])));
      for (const [i, id] of ids.entries()) {
        expect(countStatuses(results[i])).toEqual({ 201: 20, 409: 10 });
        const holders = results[i].filter((r) => r.status === 201);
        const leaving = holders.slice(0, 5);
        for (const u of leaving) expect((await t.http('DELETE', `/coupons/${id}/issue`, { token: u.token })).status).toBe(204);
        const again = await burst(
          id,
          crowds[i].filter((u) => !holders.some((h) => h.userId === u.userId)),
        );
        expect(countStatuses(again)).toEqual({ 201: 5, 409: 5 });
        if (strategy === 'queue') await untilIdle(t, admin, id);
        const facts = await expectHolders(
          t.sql,
          id,
          new Set([...holders.slice(5).map((h) => h.userId), ...again.filter((r) => r.status === 201).map((r) => r.userId)]),
        );
        expect(facts.rows).toBe(20);
      }
    });

    it('the master that owns the coupon slot (and its queue shard) SIGKILLed mid-burst: fast 503s during the election, no oversell, every yes holds one; after reconcile the rest sell', async () => {
      const id = await t.createCoupon(admin, 150, `failover ${strategy}`);
      const users = await t.users(400);
      const sent = fire(t.http, id, users);
      await new Promise((resolve) => setTimeout(resolve, 50));
      // the coupon's queue shard lives on the same master (QueueShards): with queue, the kill takes
      // the shard its workers are draining as well as the reservations
      const shardMaster = await cluster.masterPortOf(`${new QueueShards(3).prefixOf(id)}:${ISSUE_QUEUE}:meta`);
      const killed = await cluster.killMasterOf(`coupon:{${id}}:meta`); // its replica is promoted after the node timeout
      expect(shardMaster).toBe(killed);
      const first = await sent;
      expect(first.every((r) => [201, 202, 409, 503].includes(r.status))).toBe(true);
      expect(Math.max(...first.filter((r) => r.status === 503).map((r) => r.ms), 0)).toBeLessThan(5000);
      await cluster.untilHealthy(); // the replica has taken over the slot
      // every 202 is a promise: it ends ISSUED, whatever the failover did
      for (const r of first.filter((x) => x.status === 202)) expect((await untilSettled(t.http, id, r.token, 60_000)).status).toBe('ISSUED');
      if (strategy === 'queue') await untilIdle(t, admin, id, 60_000);
      // the service follows the new slot map by itself (no restart); then reconcile makes Redis
      // count exactly the rows, since the promoted replica may be behind PostgreSQL
      const reconciled = await until(
        async () => {
          const res = await t.http('POST', `/coupons/${id}/reconcile`, { token: admin });
          return res.status === 200 ? res : undefined;
        },
        { timeoutMs: 20_000, everyMs: 250, what: 'reconcile to answer after the failover' },
      );
      expect(reconciled.body.redisReserved).toBe(reconciled.body.issuedRows + reconciled.body.pending);
      const again = await burst(id, users);
      expect(again.every((r) => [201, 409].includes(r.status))).toBe(true);
      if (strategy === 'queue') await untilIdle(t, admin, id, 60_000);
      // every user told yes holds one; beyond them, only users whose answer was a 503 may (an
      // accepted request whose replica confirmation timed out stays pending, and is then issued)
      const told = new Set([...first, ...again].filter((r) => r.status === 201 || r.status === 202).map((r) => r.userId));
      const unknown = new Set(first.filter((r) => r.status === 503).map((r) => r.userId));
      const facts = await couponFacts(t.sql, id);
      expectCouponInvariants(facts);
      expect(facts.rows).toBe(150);
      for (const user of told) expect(facts.holders.has(user)).toBe(true);
      for (const holder of facts.holders) expect(told.has(holder) || unknown.has(holder)).toBe(true);
      await cluster.restart(killed); // the old master rejoins as a replica, for the tests after
    });

    if (strategy === 'queue') {
      it("the queue is cut into one shard per master, each on its own master; a coupon's jobs go to the shard on its coupon's master; workers consume every shard", async () => {
        const ready = await t.http('GET', '/health/ready');
        expect(ready.body).toMatchObject({ status: 'ok', info: { redis: { status: 'up' }, queue: { status: 'up' } } });
        const shards = new QueueShards(3); // the default on this cluster: one per master
        const shardMasters = await Promise.all(shards.prefixes.map((prefix) => cluster.masterPortOf(`${prefix}:${ISSUE_QUEUE}:meta`)));
        expect(new Set(shardMasters).size).toBe(3);
        const ids = await couponsOnEveryShard(shards, 2, (i) => t.createCoupon(admin, 5, `shard ${i}`));
        for (const id of ids) expect(shardMasters[shards.of(id)]).toBe(await cluster.masterPortOf(`coupon:{${id}}:meta`));

        const client = new Cluster([{ host: '127.0.0.1', port: Number(cluster.seeds.split(',')[0].split(':')[1]) }]);
        client.on('error', () => undefined);
        const queues = shards.prefixes.map((prefix) => new Queue(ISSUE_QUEUE, { connection: client, prefix }));
        try {
          for (const queue of queues) expect(await queue.getWorkersCount()).toBeGreaterThanOrEqual(1);
          // a burst on each coupon, so every shard has jobs: all are written
          await Promise.all(ids.map(async (id) => expect(countStatuses(await burst(id, await t.users(8)))).toEqual({ 201: 5, 409: 3 })));
          for (const id of ids) expect((await untilIdle(t, admin, id)).issuedRows).toBe(5);
        } finally {
          await Promise.all(queues.map((q) => q.close()));
          client.disconnect();
        }
      });
    }
  });
});
