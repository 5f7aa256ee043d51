import Redis from 'ioredis';
import type { LoadTestUser } from '../../load/load-test-users';
import { fire } from './burst';
import { Attempt, expectHistoryHolds } from './history';
import { countStatuses } from './invariants';
import { PrivateRedis } from '../../servers/private-redis';
import { startTestApp, TestApp } from './test-app';

/** Set-ups and checks the fault tests (test/process/faults/) share. */

/** After reconcile, whoever was refused asks again: stock left means issues, never SOLD_OUT. */
export async function reconcileAndRefill(t: TestApp, admin: string, couponId: number, history: Attempt[], users: LoadTestUser[]): Promise<void> {
  expect((await t.http('POST', `/coupons/${couponId}/reconcile`, { token: admin })).status).toBe(200);
  const holders = new Set((await t.sql.query('SELECT user_id FROM coupon_issues WHERE coupon_id = $1', [couponId])).rows.map((r) => r.user_id));
  const again = await fire(
    t.http,
    couponId,
    users.filter((u) => !holders.has(u.userId)),
  );
  history.push(...again);
  const facts = await expectHistoryHolds(t.sql, couponId, history);
  // more users than stock asked after recovery: every unit went to someone
  expect(facts.rows).toBe(facts.total);
}

/** A coupon of `total` units and `count` users, the first `served` of whom got one each. */
export async function couponUnderWay(t: TestApp, total: number, name: string, count: number, served: number) {
  const admin = await t.adminToken();
  const id = await t.createCoupon(admin, total, name);
  const users = await t.users(count);
  const history: Attempt[] = await fire(t.http, id, users.slice(0, served));
  expect(countStatuses(history)).toEqual({ 201: served });
  return { admin, id, users, history };
}

/** Kills a Redis run without its append-only file and starts it again: it comes back with nothing. */
export async function restartEmpty(redis: PrivateRedis): Promise<void> {
  await redis.kill();
  await redis.start();
  const probe = new Redis(redis.url);
  expect(await probe.dbsize()).toBe(0); // really empty
  probe.disconnect();
}

/** The redis strategy on a Redis of the test's own (with these redis-server arguments); both stopped after. */
export async function onOwnRedis(args: string[], run: (t: TestApp, redis: PrivateRedis) => Promise<void>): Promise<void> {
  const redis = new PrivateRedis(args);
  await redis.start();
  const t = await startTestApp('redis', { REDIS_URL: redis.url, RATE_LIMIT_ISSUE_PER_SECOND: '0' });
  try {
    await run(t, redis);
  } finally {
    await t.close();
    redis.resume(); // in case it was left paused
    await redis.kill();
  }
}
