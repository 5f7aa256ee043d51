import { until } from '../support/burst';
import { WebhookHistoryPurge } from '../../src/webhooks/webhook-history-purge';
import { signatureHolds, WebhookReceiver } from '../support/webhook-receiver';
import { startTestApp, TestApp } from '../support/test-app';

describe('webhooks', () => {
  let t: TestApp;
  let admin: string;
  beforeAll(async () => {
    t = await startTestApp('pessimistic', { WEBHOOK_RETRY_BASE_MS: '100' });
    admin = await t.adminToken();
  });
  afterAll(async () => {
    await t.sql.query('DELETE FROM webhooks');
    await t.close();
  });

  it('a receiver that fails, then times out, then recovers: every event delivered, signed, duplicates only with the same event id', async () => {
    const receiver = new WebhookReceiver([500, 503, 'hang']);
    const url = await receiver.start();
    try {
      const made = await t.http('POST', '/webhooks', { token: admin, body: { url, events: ['issue.issued', 'issue.given_back'] } });
      expect(made.status).toBe(201);
      const { id: webhookId, secret } = made.body;
      expect(secret).toMatch(/^whsec_/);
      const couponId = await t.createCoupon(admin, 10, 'hooked');
      const users = await t.users(4);
      for (const u of users) expect((await t.http('POST', `/coupons/${couponId}/issue`, { token: u.token })).status).toBe(201);
      expect((await t.http('DELETE', `/coupons/${couponId}/issue`, { token: users[0].token })).status).toBe(204);
      const { rows } = await t.sql.query(`SELECT count(*)::int AS n FROM coupon_events WHERE coupon_id = $1`, [couponId]);
      expect(rows[0].n).toBe(5);

      await until(async () => (receiver.delivered(couponId).size === 5 ? true : undefined), { timeoutMs: 60_000, what: 'five events delivered' });
      for (const r of receiver.received) expect(signatureHolds(secret, r)).toBe(true);
      const bodies = receiver.received.map((r) => JSON.parse(r.body));
      expect(bodies.every((b, i) => String(b.id) === receiver.received[i].eventId)).toBe(true); // a repeat is the same event
      expect(
        bodies
          .filter((b) => b.couponId === couponId)
          .map((b) => b.type)
          .sort(),
      ).toEqual(expect.arrayContaining(['issue.given_back', 'issue.issued', 'issue.issued', 'issue.issued', 'issue.issued']));
      expect(signatureHolds('whsec_another', receiver.received[0])).toBe(false);

      // the delivery left hanging was sent again, as itself
      const hung = receiver.received.find((r) => r.answered === 'hung')!;
      expect(receiver.received.filter((r) => r.eventId === hung.eventId).length).toBeGreaterThanOrEqual(2);
      // every attempt is listed with the receiver's answer; the one it left hanging, with the timeout
      // (recorded once its 5 s ran out: by then a retry may have been delivered already)
      const attempts = async () => (await t.http('GET', `/webhooks/${webhookId}/deliveries?limit=100`, { token: admin })).body.items;
      const listed = await until(
        async () => {
          const items: { status: number | null; error: string | null }[] = await attempts();
          return items.some((a) => a.status === null) ? items : undefined;
        },
        { timeoutMs: 20_000, what: 'the timed-out attempt listed' },
      );
      expect(listed.map((a) => a.status)).toEqual(expect.arrayContaining([500, 503, null, 200]));
      expect(listed.find((a) => a.status === null)!.error).toMatch(/within 5 s/);
    } finally {
      await receiver.stop();
    }
  }, 90_000);

  it('with the queue strategy, the worker sends them', async () => {
    const queued = await startTestApp('queue');
    const receiver = new WebhookReceiver();
    const url = await receiver.start();
    try {
      const token = await queued.adminToken();
      const { id: webhookId } = (await queued.http('POST', '/webhooks', { token, body: { url, events: ['issue.issued'] } })).body;
      const couponId = await queued.createCoupon(token, 3, 'queued and hooked');
      const [user] = await queued.users(1);
      expect((await queued.http('POST', `/coupons/${couponId}/issue`, { token: user.token })).status).toBe(202);
      await until(async () => (receiver.received.some((r) => JSON.parse(r.body).couponId === couponId) ? true : undefined), { what: 'the issue delivered' });
      await queued.http('DELETE', `/webhooks/${webhookId}`, { token });
    } finally {
      await receiver.stop();
      await queued.close();
    }
  });

  it('refuses a bad URL or event type with 400, and lists and removes endpoints', async () => {
    for (const body of [
      { url: 'ftp://example.com/hook', events: ['issue.issued'] },
      { url: 'not a url', events: ['issue.issued'] },
      { url: 'https://example.com/hook', events: ['issue.exploded'] },
      { url: 'https://example.com/hook', events: [] },
    ])
      expect((await t.http('POST', '/webhooks', { token: admin, body })).status).toBe(400);
    const made = (await t.http('POST', '/webhooks', { token: admin, body: { url: 'http://127.0.0.1:9/hook', events: ['issue.revoked'] } })).body;
    expect((await t.http('GET', '/webhooks', { token: admin })).body.items).toContainEqual({
      id: made.id,
      url: made.url,
      events: ['issue.revoked'],
      createdAt: made.createdAt,
    });
    expect((await t.http('DELETE', `/webhooks/${made.id}`, { token: admin })).status).toBe(204);
    expect((await t.http('GET', `/webhooks/${made.id}/deliveries`, { token: admin })).status).toBe(404);
    const [user] = await t.users(1);
    expect((await t.http('GET', '/webhooks', { token: user.token })).status).toBe(403);
  });

  it('the delivery history is kept 30 days: finished deliveries and attempts older than that are purged, the rest stays', async () => {
    const { id } = (await t.http('POST', '/webhooks', { token: admin, body: { url: 'http://127.0.0.1:9/hook', events: ['issue.revoked'] } })).body;
    const ago = (days: number) => `now() - interval '${days} days'`;
    // made by hand, oldest first as deliveries make them; the one still retrying is not due before the test ends
    await t.sql.query(
      `INSERT INTO webhook_deliveries (webhook_id, event_id, attempts, created_at, delivered_at, given_up_at, next_at) VALUES
         ($1, 1, 1, ${ago(40)}, ${ago(40)}, NULL, ${ago(40)}),
         ($1, 2, 9, ${ago(40)}, NULL, ${ago(37)}, ${ago(37)}),
         ($1, 3, 2, ${ago(31)}, NULL, NULL, now() + interval '1 hour'),
         ($1, 4, 1, ${ago(1)}, ${ago(1)}, NULL, ${ago(1)})`,
      [id],
    );
    await t.sql.query(
      `INSERT INTO webhook_attempts (webhook_id, event_id, attempt, status, at) VALUES
         ($1, 1, 1, 200, ${ago(40)}), ($1, 2, 1, 500, ${ago(40)}), ($1, 2, 9, 500, ${ago(37)}),
         ($1, 3, 1, 503, ${ago(31)}), ($1, 3, 2, 503, ${ago(29)}), ($1, 4, 1, 200, ${ago(1)})`,
      [id],
    );
    const purge = t.app.get(WebhookHistoryPurge, { strict: false });
    expect(await purge.purge()).toEqual({ attempts: 4, deliveries: 2 });
    const left = await t.sql.query(`SELECT event_id FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY event_id`, [id]);
    expect(left.rows.map((r) => Number(r.event_id))).toEqual([3, 4]); // 3 is still being retried
    const listed = (await t.http('GET', `/webhooks/${id}/deliveries?limit=100`, { token: admin })).body.items;
    expect(listed.map((a: { eventId: number; attempt: number }) => [a.eventId, a.attempt]).sort()).toEqual([
      [3, 2],
      [4, 1],
    ]);
    expect(await purge.purge()).toEqual({ attempts: 0, deliveries: 0 }); // nothing more is due
    expect((await t.http('DELETE', `/webhooks/${id}`, { token: admin })).status).toBe(204);
  });

  it('outside development/test (WEBHOOK_ALLOW_PRIVATE=false), a URL whose host is internal is refused with 400', async () => {
    const strict = await startTestApp('pessimistic', { WEBHOOK_ALLOW_PRIVATE: 'false' });
    try {
      const token = await strict.adminToken();
      for (const url of [
        'http://127.0.0.1:8080/hook',
        'http://localhost/hook',
        'http://169.254.169.254/latest/meta-data',
        'http://[::1]/hook',
        'http://10.1.2.3/hook',
      ]) {
        const answer = await strict.http('POST', '/webhooks', { token, body: { url, events: ['issue.issued'] } });
        expect([url, answer.status, answer.body.message]).toEqual([url, 400, expect.stringMatching(/refused/)]);
      }
    } finally {
      await strict.close();
    }
  });
});
