import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { Pool } from 'pg';
import { ensureLoadTestUsers, LoadTestUser } from '../../load/load-test-users';
import { signAccessToken } from '../../src/auth/token.service';
import { IssuanceStrategyName } from '../../src/config/issuance.config';
import { TEST_DATABASE_URL, TEST_JWT_SECRET } from '../setup/test-env';
import { untilSettled } from '../support/burst';
import { HttpRequest, httpClient } from '../support/http';
import { countStatuses, expectHolders } from '../support/invariants';
import { untilIdle } from '../support/queue-state';
import { kill, startApiProcess, startWorkerProcess } from '../support/service-process';

/**
 * The give-back storm of #13 on real processes: two API processes answer the crowd (each with its
 * own batchers and connections), and with `queue` two worker processes write. 100 holders of a
 * sold-out coupon; 50 give back while 250 newcomers ask at once. Then a second round of asking
 * takes every unit that came back, and Redis and PostgreSQL agree (reconcile changes nothing).
 */
const STRATEGIES: IssuanceStrategyName[] = ['pessimistic', 'redis', 'queue'];

describe.each(STRATEGIES)('a give-back storm on two API processes: %s', (strategy) => {
  const sql = new Pool({ connectionString: TEST_DATABASE_URL, max: 4 });
  const children: ChildProcess[] = [];
  let apis: HttpRequest[] = [];
  let admin: string;

  beforeAll(async () => {
    const env = { ISSUANCE_STRATEGY: strategy, RATE_LIMIT_ISSUE_PER_SECOND: '0', ...(strategy === 'queue' ? { RUN_WORKER: 'false' } : {}) };
    const started = await Promise.all([startApiProcess(env), startApiProcess(env)]);
    children.push(...started.map((s) => s.child));
    if (strategy === 'queue') children.push(startWorkerProcess(), startWorkerProcess());
    apis = started.map((s) => httpClient(s.baseUrl));
    const { rows } = await sql.query(`INSERT INTO users (email, password_hash, role) VALUES ($1, 'x', 'admin') RETURNING id`, [
      `admin-${randomBytes(6).toString('hex')}@example.test`,
    ]);
    admin = signAccessToken(TEST_JWT_SECRET, { id: rows[0].id, role: 'admin' }, 3600);
  });
  afterAll(async () => {
    await Promise.all(children.map((c) => kill(c, 'SIGTERM')));
    await sql.end();
  });

  const users = (count: number) =>
    ensureLoadTestUsers(TEST_DATABASE_URL, { secret: TEST_JWT_SECRET, expiresInSeconds: 3600 }, count, { prefix: `storm-${randomBytes(6).toString('hex')}` });
  /** Alternates between the two APIs. */
  const api = (i: number) => apis[i % apis.length];
  const stats = async (id: number) => (await api(0)('GET', `/coupons/${id}/stats`, { token: admin })).body;

  /** Every user asks at once, spread over both APIs; a 202 is a yes only once it settled ISSUED. */
  async function ask(id: number, crowd: LoadTestUser[]): Promise<Set<number>> {
    const answers = await Promise.all(crowd.map(async (u, i) => ({ u, res: await api(i)('POST', `/coupons/${id}/issue`, { token: u.token }) })));
    expect(answers.every(({ res }) => [201, 202, 409].includes(res.status))).toBe(true);
    const winners = new Set<number>();
    for (const { u, res } of answers) {
      if (res.status === 201) winners.add(u.userId);
      if (res.status === 202 && (await untilSettled(api(0), id, u.token, 60_000)).status === 'ISSUED') winners.add(u.userId);
    }
    return winners;
  }

  it('counter = rows <= total, nobody holds two, nobody who gave back still holds one, every yes holds one', async () => {
    const created = await api(0)('POST', '/coupons', { token: admin, body: { name: `storm ${strategy}`, totalQuantity: 100 } });
    const id = created.body.id as number;
    const holders = await users(100);
    expect((await ask(id, holders)).size).toBe(100);
    const leaving = holders.slice(0, 50);
    const crowd = await users(250);

    const [backs, firstWinners] = await Promise.all([
      Promise.all(leaving.map((u, i) => api(i + 1)('DELETE', `/coupons/${id}/issue`, { token: u.token }))),
      ask(id, crowd),
    ]);
    expect(countStatuses(backs)).toEqual({ 204: 50 });
    await untilIdle({ http: api(0) }, admin, id);
    const secondWinners = await ask(
      id,
      crowd.filter((u) => !firstWinners.has(u.userId)),
    );
    await untilIdle({ http: api(0) }, admin, id);

    const facts = await expectHolders(sql, id, new Set([...holders.slice(50).map((u) => u.userId), ...firstWinners, ...secondWinners]));
    expect(facts.rows).toBe(100);
    expect(firstWinners.size + secondWinners.size).toBe(50);
    expect(leaving.some((u) => facts.holders.has(u.userId))).toBe(false);
    const { rows } = await sql.query('SELECT count(*)::int AS n, count(DISTINCT user_id)::int AS users FROM coupon_issue_cancellations WHERE coupon_id = $1', [
      id,
    ]);
    expect(rows[0]).toEqual({ n: 50, users: 50 });
    const after = await stats(id);
    expect(after).toMatchObject({ cancelledQuantity: 50, remainingQuantity: 0, pending: 0 });
    if (strategy !== 'pessimistic') {
      expect(after.redisReserved).toBe(100);
      expect((await api(1)('POST', `/coupons/${id}/reconcile`, { token: admin })).body).toMatchObject({ redisReserved: 100, issuedRows: 100 });
    }
  });
});
