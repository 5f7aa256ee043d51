import Redis from 'ioredis';
import { couponKeys } from '../../../src/issuance/reservation/coupon-keys';
import { HoldersRepair } from '../../../src/issuance/reservation/holders-repair';
import { PrivateRedis } from '../../../servers/private-redis';
import { fire, untilSettled } from '../../support/burst';
import { untilReady } from '../../support/http';
import { countStatuses, couponFacts } from '../../support/invariants';
import { untilIdle } from '../../support/queue-state';
import { startTestApp, TestApp } from '../../support/test-app';

jest.setTimeout(120_000);

/**
 * A Redis that comes back behind PostgreSQL: a replica promoted before the last writes reached it,
 * or a server restarted from a file short of them. Its coupon state looks sound (holders = taken)
 * yet lists fewer holders than there are rows; granted on as it is, it would accept requests
 * PostgreSQL then refuses, and a 202 would end REJECTED. Found by `npm run chaos --seed 3604
 * --redis-cluster` (queue), where HoldersRepair's next pass came too late for some of them.
 */
describe('queue: a Redis that came back behind PostgreSQL (a Redis of the test’s own, with its append-only file)', () => {
  const redis = new PrivateRedis();
  let t: TestApp;
  let admin: string;

  beforeAll(async () => {
    await redis.start();
    t = await startTestApp('queue', { REDIS_URL: redis.url, RATE_LIMIT_ISSUE_PER_SECOND: '0' });
    admin = await t.adminToken();
    // no background repair pass may mend the state first: what is tested is the request path alone
    await t.app.get(HoldersRepair, { strict: false }).onApplicationShutdown();
  });
  afterAll(async () => {
    await t?.close();
    await redis.kill();
  });

  it('the first request on the server that came back rebuilds the state from PostgreSQL: no 202 beyond the stock, none ends REJECTED', async () => {
    const id = await t.createCoupon(admin, 3, 'redis behind');
    const [a, b, c, ...late] = await t.users(6);
    expect(countStatuses(await fire(t.http, id, [a, b, c]))).toEqual({ 202: 3 });
    await untilIdle(t, admin, id);
    expect(await couponFacts(t.sql, id)).toMatchObject({ rows: 3, counter: 3 });

    // the state as a replica promoted before two of the writes reached it holds it: sound, and behind
    const k = couponKeys(id);
    const direct = new Redis(redis.url);
    try {
      await direct.srem(k.holders, String(b.userId), String(c.userId));
      await direct.hincrby(k.meta, 'taken', -2);
    } finally {
      direct.disconnect();
    }
    await redis.kill();
    await redis.start(); // from its append-only file: a new server, with that state
    await untilReady(t.http);

    const answers = await fire(t.http, id, late);
    for (const answer of answers.filter((r) => r.status === 202)) {
      expect((await untilSettled(t.http, id, answer.token)).status).toBe('ISSUED'); // a 202 kept, had one been given
    }
    expect(countStatuses(answers)).toEqual({ 409: 3 });
    expect(answers.every((r) => r.code === 'SOLD_OUT')).toBe(true);
    expect((await t.http('GET', `/coupons/${id}/stats`, { token: admin })).body).toMatchObject({ issuedRows: 3, redisReserved: 3, pending: 0 });
    for (const holder of [a, b, c]) expect((await t.http('POST', `/coupons/${id}/issue`, { token: holder.token })).body.code).toBe('ALREADY_ISSUED');
  });

  it("reads the server's run id once per server process, not per request, and a server that lost the reservation's function library is given it again", async () => {
    const id = await t.createCoupon(admin, 100, 'run id once');
    const direct = new Redis(redis.url);
    const infoCalls = async () => Number(/cmdstat_info:calls=(\d+)/.exec(await direct.info('commandstats'))?.[1] ?? 0);
    try {
      expect(countStatuses(await fire(t.http, id, await t.users(5)))).toEqual({ 202: 5 }); // the run id read
      const before = await infoCalls();
      expect(countStatuses(await fire(t.http, id, await t.users(40)))).toEqual({ 202: 40 });
      expect((await infoCalls()) - before).toBeLessThanOrEqual(2); // it was one INFO per reservation

      await direct.call('FUNCTION', 'FLUSH'); // as a server restarted empty has none
      expect(countStatuses(await fire(t.http, id, await t.users(20)))).toEqual({ 202: 20 });
      expect(String(await direct.call('FUNCTION', 'LIST'))).toContain('service_');
    } finally {
      direct.disconnect();
    }
    await untilIdle(t, admin, id);
    expect(await couponFacts(t.sql, id)).toMatchObject({ rows: 65, counter: 65 });
  });
});
