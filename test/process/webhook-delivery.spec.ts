import { Pool } from 'pg';
import { ensureLoadTestUsers } from '../../load/load-test-users';
import { signAccessToken } from '../../src/auth/token.service';
import { until } from '../support/burst';
import { httpClient } from '../support/http';
import { untilLockWaiters } from '../support/row-lock';
import { kill, startApiProcess } from '../support/service-process';
import { signatureHolds, WebhookReceiver } from '../support/webhook-receiver';
import { TEST_DATABASE_URL, TEST_JWT_SECRET } from '../setup/test-env';

describe('webhook delivery survives its process', () => {
  it('the API SIGKILLed mid-delivery: the delivery is sent again by the next process, with the same event id, and every event arrives', async () => {
    const sql = new Pool({ connectionString: TEST_DATABASE_URL, max: 2 });
    const receiver = new WebhookReceiver(['hang']); // the first delivery is in flight when its process dies
    const url = await receiver.start();
    const env = { ISSUANCE_STRATEGY: 'pessimistic', WEBHOOK_RETRY_BASE_MS: '100' };
    let api = await startApiProcess(env);
    try {
      const admin = await adminToken(sql);
      let http = httpClient(api.baseUrl);
      const { secret } = (await http('POST', '/webhooks', { token: admin, body: { url, events: ['issue.issued'] } })).body;
      const couponId = (await http('POST', '/coupons', { token: admin, body: { name: 'hooked, then killed', totalQuantity: 5 } })).body.id;
      const users = await ensureLoadTestUsers(TEST_DATABASE_URL, { secret: TEST_JWT_SECRET, expiresInSeconds: 3600 }, 3, { prefix: `hook-${Date.now()}` });
      for (const u of users) expect((await http('POST', `/coupons/${couponId}/issue`, { token: u.token })).status).toBe(201);

      await until(async () => (receiver.received.length ? true : undefined), { what: 'the first delivery in flight' });
      await kill(api.child); // mid-delivery: its lease is left behind, unfinished
      api = await startApiProcess(env);
      http = httpClient(api.baseUrl);

      await until(async () => (receiver.delivered(couponId).size === 3 ? true : undefined), { timeoutMs: 60_000, what: 'every event delivered' });
      const { rows: events } = await sql.query(`SELECT position FROM coupon_events WHERE coupon_id = $1`, [couponId]);
      expect(new Set(events.map((e) => String(e.position)))).toEqual(receiver.delivered(couponId));
      const hung = receiver.received[0].eventId;
      expect(receiver.received.filter((r) => r.eventId === hung).length).toBeGreaterThanOrEqual(2); // sent again, as itself
      for (const r of receiver.received) expect(signatureHolds(secret, r)).toBe(true);
    } finally {
      await sql.query('DELETE FROM webhooks WHERE url = $1', [url]);
      await kill(api.child);
      await receiver.stop();
      await sql.end();
    }
  }, 120_000);

  it('SIGTERM while a delivery run waits on a lock: the API still stops, within its deadline', async () => {
    const sql = new Pool({ connectionString: TEST_DATABASE_URL, max: 2 });
    const receiver = new WebhookReceiver(['hang']);
    const url = await receiver.start();
    // its statements wait on a lock as long as it is held (no lock timeout ending the run first)
    const api = await startApiProcess({ ISSUANCE_STRATEGY: 'pessimistic', LOG_LEVEL: 'warn', DB_LOCK_TIMEOUT_MS: '600000', DB_STATEMENT_TIMEOUT_MS: '600000' });
    const lock = await sql.connect();
    try {
      const admin = await adminToken(sql);
      const http = httpClient(api.baseUrl);
      const hook = (await http('POST', '/webhooks', { token: admin, body: { url, events: ['issue.issued'] } })).body;
      const couponId = (await http('POST', '/coupons', { token: admin, body: { name: 'hooked, then stopped', totalQuantity: 5 } })).body.id;
      const [user] = await ensureLoadTestUsers(TEST_DATABASE_URL, { secret: TEST_JWT_SECRET, expiresInSeconds: 3600 }, 1, {
        prefix: `hook-stop-${Date.now()}`,
      });
      expect((await http('POST', `/coupons/${couponId}/issue`, { token: user.token })).status).toBe(201);
      // the delivery in flight (the endpoint does not answer), and its row held meanwhile: the run's
      // record of the attempt, once the POST's 5 s are over, waits for it
      await until(async () => (receiver.received.length ? true : undefined), { what: 'the delivery in flight' });
      await lock.query('BEGIN');
      await lock.query('SELECT 1 FROM webhook_deliveries WHERE webhook_id = $1 FOR UPDATE', [hook.id]);
      await untilLockWaiters(sql);

      const signalledAt = performance.now();
      const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
        api.child.once('exit', (code, signal) => resolve({ code, signal })),
      );
      api.child.kill('SIGTERM');
      const exit = await exited;
      expect(exit.code === 0 || exit.signal === 'SIGTERM').toBe(true);
      expect(performance.now() - signalledAt).toBeLessThan(15_000);
      expect(api.output()).toContain('stopping with a delivery run still under way');
    } finally {
      await lock.query('ROLLBACK').catch(() => undefined);
      lock.release();
      await sql.query('DELETE FROM webhooks WHERE url = $1', [url]);
      await kill(api.child);
      await receiver.stop();
      await sql.end();
    }
  }, 120_000);
});

async function adminToken(sql: Pool): Promise<string> {
  const { rows } = await sql.query(
    `INSERT INTO users (email, password_hash, role) VALUES ('hook-admin-' || gen_random_uuid() || '@example.test', 'x', 'admin') RETURNING id`,
  );
  return signAccessToken(TEST_JWT_SECRET, { id: rows[0].id, role: 'admin' }, 3600);
}
