import { setTimeout as sleep } from 'node:timers/promises';
import type Redis from 'ioredis';
import { couponKeys } from '../../src/issuance/reservation/coupon-keys';
import { IssueCanceller } from '../../src/issuance/issue-canceller';
import { IssueWriter } from '../../src/issuance/issue-writer';
import { ReservationStore } from '../../src/issuance/reservation/reservation.store';
import { ReservationRebuild } from '../../src/issuance/reservation/reservation-rebuild';
import { CouponEntity } from '../../src/coupons/coupon.entity';
import { DataSource } from 'typeorm';
import { fire, until } from '../support/burst';
import { countStatuses, couponFacts } from '../support/invariants';
import { PrivateRedis } from '../../servers/private-redis';
import { startTestApp, TestApp } from '../support/test-app';

describe('redis strategy: state lost, leaked, refused, and Redis down', () => {
  let t: TestApp;
  let admin: string;
  let redis: Redis;

  beforeAll(async () => {
    t = await startTestApp('redis');
    admin = await t.adminToken();
    redis = t.redis;
  });
  afterAll(() => t.close());

  const create = (totalQuantity: number) => t.createCoupon(admin, totalQuantity, 'redis faults');
  const burst = (id: number, users: { userId: number; token: string }[]) => fire(t.http, id, users);
  const stats = async (id: number) => (await t.http('GET', `/coupons/${id}/stats`, { token: admin })).body;

  it('Redis flushed in the middle of a coupon: the state is rebuilt from PostgreSQL, nothing is oversold', async () => {
    const id = await create(100);
    const users = await t.users(200);
    expect(countStatuses(await burst(id, users.slice(0, 60)))).toEqual({ 201: 60 });

    await redis.flushdb();
    const second = await burst(id, users.slice(40)); // 20 who hold one already, 140 new
    expect(countStatuses(second)).toEqual({ 201: 40, 409: 120 });
    expect(second.filter((r) => users.slice(40, 60).some((u) => u.userId === r.userId)).every((r) => r.body.code === 'ALREADY_ISSUED')).toBe(true);
    const facts = await couponFacts(t.sql, id);
    expect(facts).toMatchObject({ rows: 100, counter: 100, duplicateHolders: 0 });
    expect(await stats(id)).toMatchObject({ issuedRows: 100, redisReserved: 100, pending: 0 });
  });

  it('a torn state (holders gone, meta kept) is treated as missing, never as fresh stock', async () => {
    const id = await create(3);
    const users = await t.users(6);
    expect(countStatuses(await burst(id, users.slice(0, 3)))).toEqual({ 201: 3 });
    await redis.del(couponKeys(id).holders);
    expect(countStatuses(await burst(id, users.slice(3)))).toEqual({ 409: 3 });
    expect((await couponFacts(t.sql, id)).rows).toBe(3);
  });

  it('a leaked reservation (process died between reserve and write) holds stock back until reconcile', async () => {
    const id = await create(2);
    const [a, b, c] = await t.users(3);
    expect((await t.http('POST', `/coupons/${id}/issue`, { token: a.token })).status).toBe(201);
    // what a crash right after the Lua reservation leaves behind
    await redis.sadd(couponKeys(id).holders, '999999');
    await redis.hincrby(couponKeys(id).meta, 'taken', 1);
    expect(await stats(id)).toMatchObject({ issuedRows: 1, redisReserved: 2, pending: 1 });
    expect((await t.http('POST', `/coupons/${id}/issue`, { token: b.token })).body.code).toBe('SOLD_OUT');

    const reconciled = await t.http('POST', `/coupons/${id}/reconcile`, { token: admin });
    expect(reconciled.body).toMatchObject({ issuedRows: 1, redisReserved: 1, pending: 0 });
    expect((await t.http('POST', `/coupons/${id}/issue`, { token: c.token })).status).toBe(201);
    expect(await couponFacts(t.sql, id)).toMatchObject({ rows: 2, counter: 2 });
  });

  describe('a lost write made good while the same user gives the coupon back (settle.lua decides who keeps a re-created row)', () => {
    const reservations = () => t.app.get(ReservationStore, { strict: false });

    it('the give-back completes: the row re-created behind it is taken back, and the unit is in stock once', async () => {
      const id = await create(1);
      const [u, next] = await t.users(2);
      expect((await t.http('POST', `/coupons/${id}/issue`, { token: u.token })).status).toBe(201);
      // the give-back's first two steps: the tombstone, then the row leaves PostgreSQL
      expect((await reservations().beginGiveBack(id, u.userId, { withdrawPending: false })).step).toBe('RETURNING');
      expect(await t.app.get(IssueCanceller, { strict: false }).cancel(id, { userId: u.userId, reason: 'GIVEN_BACK' })).toMatchObject({ kind: 'cancelled' });
      // the user asks now: Redis still lists them, so the lost-write path writes their row again, then waits on the tombstone
      const asked = t.http('POST', `/coupons/${id}/issue`, { token: u.token });
      await until(async () => ((await couponFacts(t.sql, id)).rows === 1 ? true : undefined), { what: 'the row re-created' });
      await reservations().release(id, u.userId); // the give-back's last step
      expect(await asked).toMatchObject({ status: 409, body: { code: 'ALREADY_ISSUED' } });
      expect(await couponFacts(t.sql, id)).toMatchObject({ rows: 0, counter: 0 });
      expect(await stats(id)).toMatchObject({ redisReserved: 0, remainingQuantity: 1 });
      expect((await t.http('POST', `/coupons/${id}/issue`, { token: next.token })).status).toBe(201);
    });

    it('the give-back finds no row and ends: the row the lost-write path made stays theirs', async () => {
      const id = await create(1);
      const [u, other] = await t.users(2);
      // a reservation whose write was lost, and a give-back under way that will find nothing in PostgreSQL
      await redis.sadd(couponKeys(id).holders, String(u.userId));
      await redis.hincrby(couponKeys(id).meta, 'taken', 1);
      const { step, tombstone } = await reservations().beginGiveBack(id, u.userId, { withdrawPending: false });
      expect(step).toBe('RETURNING');
      const asked = t.http('POST', `/coupons/${id}/issue`, { token: u.token });
      await until(async () => ((await couponFacts(t.sql, id)).rows === 1 ? true : undefined), { what: 'the lost write made good' });
      await reservations().endGiveBack(id, u.userId, tombstone);
      expect(await asked).toMatchObject({ status: 201, body: { userId: u.userId } });
      expect(await couponFacts(t.sql, id)).toMatchObject({ rows: 1, counter: 1 });
      expect(await stats(id)).toMatchObject({ redisReserved: 1, pending: 0 });
      expect((await t.http('POST', `/coupons/${id}/issue`, { token: other.token })).body.code).toBe('SOLD_OUT');
    });
  });

  it('a reservation whose answer was lost (the client got a 503): the retry gets the coupon, not a 409 for one never written', async () => {
    const id = await create(2);
    const [a, b, c] = await t.users(3);
    // what Redis holds when it ran the script but its answer never reached the API
    await redis.sadd(couponKeys(id).holders, String(a.userId));
    await redis.hincrby(couponKeys(id).meta, 'taken', 1);
    const retry = await t.http('POST', `/coupons/${id}/issue`, { token: a.token });
    expect(retry.status).toBe(201);
    expect(retry.body).toMatchObject({ couponId: id, userId: a.userId });
    // and from then on, as for anyone holding one
    expect((await t.http('POST', `/coupons/${id}/issue`, { token: a.token })).body.code).toBe('ALREADY_ISSUED');
    expect((await t.http('POST', `/coupons/${id}/issue`, { token: b.token })).status).toBe(201);
    expect((await t.http('POST', `/coupons/${id}/issue`, { token: c.token })).body.code).toBe('SOLD_OUT');
    expect(await couponFacts(t.sql, id)).toMatchObject({ rows: 2, counter: 2, duplicateHolders: 0 });
    expect(await stats(id)).toMatchObject({ issuedRows: 2, redisReserved: 2, pending: 0 });
  });

  it('a database write that fails after the reservation gives the stock back', async () => {
    const id = await create(1);
    const [a, b] = await t.users(2);
    await t.sql.query(`
      CREATE FUNCTION refuse_issue() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by test'; END $$;
      CREATE TRIGGER refuse_issue BEFORE INSERT ON coupon_issues FOR EACH ROW WHEN (NEW.coupon_id = ${id}) EXECUTE FUNCTION refuse_issue();`);
    try {
      expect((await t.http('POST', `/coupons/${id}/issue`, { token: a.token })).status).toBe(500);
    } finally {
      await t.sql.query('DROP TRIGGER refuse_issue ON coupon_issues; DROP FUNCTION refuse_issue();');
    }
    expect(await stats(id)).toMatchObject({ issuedRows: 0, redisReserved: 0, pending: 0 });
    expect((await t.http('POST', `/coupons/${id}/issue`, { token: b.token })).status).toBe(201);
  });

  it("a write that surely did not commit, while the same user's other request committed their row: the release is undone (Redis keeps counting the row)", async () => {
    const id = await create(2);
    const [a, b] = await t.users(2);
    await t.sql.query(`
      CREATE FUNCTION refuse_issue() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by test'; END $$;
      CREATE TRIGGER refuse_issue BEFORE INSERT ON coupon_issues FOR EACH ROW WHEN (NEW.coupon_id = ${id}) EXECUTE FUNCTION refuse_issue();`);
    const store = t.app.get(ReservationStore, { strict: false });
    const release = store.release.bind(store);
    // between this request's failed write and its release, the user's other request (another
    // process) commits their row and settles it
    const spy = jest.spyOn(store, 'release').mockImplementationOnce(async (couponId, userId, because) => {
      await t.sql.query('DROP TRIGGER refuse_issue ON coupon_issues; DROP FUNCTION refuse_issue();');
      const [written] = await t.app.get(IssueWriter).write(couponId, [userId]);
      expect(written.kind).toBe('issued');
      return release(couponId, userId, because);
    });
    try {
      expect((await t.http('POST', `/coupons/${id}/issue`, { token: a.token })).status).toBe(500);
    } finally {
      spy.mockRestore();
      await t.sql.query('DROP TRIGGER IF EXISTS refuse_issue ON coupon_issues; DROP FUNCTION IF EXISTS refuse_issue();');
    }
    expect(await stats(id)).toMatchObject({ issuedRows: 1, redisReserved: 1 });
    expect(await redis.sismember(couponKeys(id).holders, String(a.userId))).toBe(1);
    expect((await t.http('POST', `/coupons/${id}/issue`, { token: b.token })).status).toBe(201);
    const [c] = await t.users(1);
    expect((await t.http('POST', `/coupons/${id}/issue`, { token: c.token })).body.code).toBe('SOLD_OUT');
    expect(await couponFacts(t.sql, id)).toMatchObject({ rows: 2, counter: 2 });
  });

  it('GET /coupons/:id is served from the coupon cache, and a change through the API drops it at once', async () => {
    const id = await create(10);
    const [u] = await t.users(1);
    expect((await t.http('GET', `/coupons/${id}`, { token: u.token })).body.name).toBe('redis faults');
    await t.sql.query(`UPDATE coupons SET name = 'changed behind the cache' WHERE id = $1`, [id]);
    expect((await t.http('GET', `/coupons/${id}`, { token: u.token })).body.name).toBe('redis faults'); // cached
    await t.http('PATCH', `/coupons/${id}`, { token: admin, body: { name: 'renamed' } });
    expect((await t.http('GET', `/coupons/${id}`, { token: u.token })).body.name).toBe('renamed');
    await redis.del(`coupon:{${id}}:view`);
    await t.sql.query(`UPDATE coupons SET name = 'changed again' WHERE id = $1`, [id]);
    expect((await t.http('GET', `/coupons/${id}`, { token: u.token })).body.name).toBe('changed again'); // a miss reads PostgreSQL
  });

  it("two admin changes whose Redis steps arrive out of order: the later change stands (the coupon's version orders them)", async () => {
    const id = await create(5);
    const [u] = await t.users(1);
    expect((await t.http('POST', `/coupons/${id}/issue`, { token: u.token })).status).toBe(201); // a state installed
    const patch = (body: object) => t.http('PATCH', `/coupons/${id}`, { token: admin, body });
    expect((await patch({ status: 'PAUSED', totalQuantity: 4 })).status).toBe(200);
    const first = await t.app.get(DataSource).getRepository(CouponEntity).findOneByOrFail({ id }); // as the first change committed it
    expect((await patch({ status: 'ACTIVE', totalQuantity: 6 })).status).toBe(200);
    await t.app.get(ReservationRebuild, { strict: false }).updateCouponFields(first); // the first change's Redis step, late
    expect(await redis.hmget(couponKeys(id).meta, 'status', 'total')).toEqual(['ACTIVE', '6']);
    const [late] = await t.users(1);
    expect((await t.http('POST', `/coupons/${id}/issue`, { token: late.token })).status).toBe(201);
  });

  it('admin changes reach Redis: pause, more stock after a sell-out, delete', async () => {
    const id = await create(1);
    const [a, b, c] = await t.users(3);
    expect((await t.http('POST', `/coupons/${id}/issue`, { token: a.token })).status).toBe(201);
    expect((await t.http('POST', `/coupons/${id}/issue`, { token: b.token })).body.code).toBe('SOLD_OUT');
    await t.http('PATCH', `/coupons/${id}`, { token: admin, body: { totalQuantity: 2, status: 'PAUSED' } });
    expect((await t.http('POST', `/coupons/${id}/issue`, { token: b.token })).body.code).toBe('NOT_OPEN');
    await t.http('PATCH', `/coupons/${id}`, { token: admin, body: { status: 'ACTIVE' } });
    expect((await t.http('POST', `/coupons/${id}/issue`, { token: b.token })).status).toBe(201);
    expect((await t.http('POST', `/coupons/${id}/issue`, { token: c.token })).body.code).toBe('SOLD_OUT');

    const fresh = await create(5);
    expect(await redis.exists(couponKeys(fresh).meta)).toBe(1);
    expect((await t.http('DELETE', `/coupons/${fresh}`, { token: admin })).status).toBe(204);
    expect(await redis.exists(couponKeys(fresh).meta)).toBe(0);
    expect((await t.http('POST', `/coupons/${fresh}/issue`, { token: c.token })).body.code).toBe('COUPON_NOT_FOUND');
  });
});

describe('redis strategy with its own Redis server', () => {
  it('refuses to start unless maxmemory-policy is noeviction', async () => {
    const evicting = new PrivateRedis(['--maxmemory-policy', 'allkeys-lru']);
    await evicting.start();
    try {
      await expect(startTestApp('redis', { REDIS_URL: evicting.url })).rejects.toThrow(/maxmemory-policy is "allkeys-lru"/);
    } finally {
      await evicting.kill();
    }
  });

  it('Redis killed: fast 503 UNAVAILABLE and a failing /health, no oversell; restarted from its append-only file: serves again', async () => {
    const own = new PrivateRedis();
    await own.start();
    const t = await startTestApp('redis', { REDIS_URL: own.url });
    try {
      const admin = await t.adminToken();
      const id = await t.createCoupon(admin, 3, 'outage');
      const users = await t.users(5);
      expect((await t.http('POST', `/coupons/${id}/issue`, { token: users[0].token })).status).toBe(201);

      await own.kill();
      const down = await t.http('POST', `/coupons/${id}/issue`, { token: users[1].token });
      expect(down.status).toBe(503);
      expect(down.body.code).toBe('UNAVAILABLE');
      expect(down.ms).toBeLessThan(3000); // failed fast, not hung
      const notReady = await t.http('GET', '/health/ready');
      expect(notReady.status).toBe(503);
      expect(notReady.body).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/not ready: redis \(/) });
      expect(notReady.body.message).not.toMatch(/127\.0\.0\.1|:\d{4,5}\b/); // no internal host in a public body
      expect((await t.http('GET', '/health')).status).toBe(503);
      expect((await t.http('GET', '/health/live')).status).toBe(200); // alive: no restart needed, only no traffic

      await own.start();
      let health = 0;
      for (let i = 0; i < 50 && health !== 200; i++) {
        health = (await t.http('GET', '/health')).status;
        if (health !== 200) await sleep(100);
      }
      expect(health).toBe(200);
      const after = await Promise.all(users.slice(1).map((u) => t.http('POST', `/coupons/${id}/issue`, { token: u.token })));
      expect(countStatuses(after)).toEqual({ 201: 2, 409: 2 });
      expect(await couponFacts(t.sql, id)).toMatchObject({ rows: 3, counter: 3, duplicateHolders: 0 });
    } finally {
      await t.close();
      await own.kill();
    }
  });
});
