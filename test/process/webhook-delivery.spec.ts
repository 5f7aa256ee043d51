import { Pool } from 'pg';
import { ensureLoadTestUsers } from '../../load/load-test-users';
import { signAccessToken } from '../../src/auth/token.service';
import { until } from '../support/burst';
import { httpClient } from '../support/http';
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
      const { rows } = await sql.query(
        `INSERT INTO users (email, password_hash, role) VALUES ('hook-admin-' || gen_random_uuid() || '@example.test', 'x', 'admin') RETURNING id`,
      );
      const admin = signAccessToken(TEST_JWT_SECRET, { id: rows[0].id, role: 'admin' }, 3600);
      let http = httpClient(api.baseUrl);
      const { secret } = (await http('POST', '/webhooks', { token: admin, body: { url, events: ['issue.issued'] } })).body;
      const couponId = (await http('POST', '/coupons', { token: admin, body: { name: 'hooked, then killed', totalQuantity: 5 } })).body.id;
      const users = await ensureLoadTestUsers(TEST_DATABASE_URL, { secret: TEST_JWT_SECRET, expiresInSeconds: 3600 }, 3, { prefix: `hook-${Date.now()}` });
      for (const u of users) expect((await http('POST', `/coupons/${couponId}/issue`, { token: u.token })).status).toBe(201);

      await until(async () => (receiver.received.length ? true : undefined), { what: 'the first delivery in flight' });
      await kill(api.child); // mid-delivery: its lease is left behind, unfinished
      api = await startApiProcess(env);
      http = httpClient(api.baseUrl);

      const eventIds = (await sql.query(`SELECT position FROM coupon_events WHERE coupon_id = $1 ORDER BY position`, [couponId])).rows.map((r) =>
        String(r.position),
      );
      expect(eventIds).toHaveLength(3);
      await until(async () => (eventIds.every((id) => receiver.delivered().has(id)) ? true : undefined), { timeoutMs: 60_000, what: 'every event delivered' });
      const hung = receiver.received[0].eventId;
      expect(receiver.received.filter((r) => r.eventId === hung).length).toBeGreaterThanOrEqual(2); // sent again, as itself
      for (const r of receiver.received) expect(signatureHolds(secret, r)).toBe(true);
      await sql.query('DELETE FROM webhooks WHERE url = $1', [url]);
    } finally {
      await kill(api.child);
      await receiver.stop();
      await sql.end();
    }
  }, 120_000);
});
