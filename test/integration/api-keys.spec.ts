import { startTestApp, TestApp } from '../support/test-app';

/** Service keys: scoped keys for the shop's back ends, made by an admin, refused everywhere once deleted. */
describe('service keys', () => {
  let t: TestApp;
  let admin: string;

  beforeAll(async () => {
    t = await startTestApp('pessimistic');
    admin = await t.adminToken();
  });
  afterAll(() => t.close());

  const makeKey = async (scopes: string[], name = 'back end') => {
    const made = await t.http('POST', '/api-keys', { token: admin, body: { name, scopes } });
    expect(made.status).toBe(201);
    return made.body as { id: number; key: string; scopes: string[] };
  };

  /** A coupon with one holder, whose code is returned. */
  async function heldCoupon() {
    const id = await t.createCoupon(admin, 5, 'for keys');
    const [holder] = await t.users(1);
    const issued = await t.http('POST', `/coupons/${id}/issue`, { token: holder.token });
    return { id, code: issued.body.code as string, issueId: issued.body.issueId as number };
  }

  it('shows the secret once, stores only its digest, and lists keys without it', async () => {
    const made = await makeKey(['issues:redeem'], 'checkout');
    expect(made.key).toMatch(/^csk_[A-Za-z0-9_-]{43}$/);
    const listed = (await t.http('GET', '/api-keys', { token: admin })).body.items;
    expect(listed).toContainEqual({ id: made.id, name: 'checkout', scopes: ['issues:redeem'], createdAt: expect.any(String), lastUsedAt: null });
    expect(JSON.stringify(listed)).not.toContain(made.key);
    const { rows } = await t.sql.query(`SELECT count(*)::int AS n FROM api_keys WHERE row_to_json(api_keys)::text LIKE '%' || $1 || '%'`, [made.key.slice(4)]);
    expect(rows[0].n).toBe(0);
  });

  it('each scope opens its routes and no other (403 FORBIDDEN)', async () => {
    const { id, code, issueId } = await heldCoupon();
    const redeem = (await makeKey(['issues:redeem'])).key;
    const read = (await makeKey(['coupons:read'])).key;
    const write = (await makeKey(['coupons:write'])).key;
    const status = async (token: string, method: string, path: string, body?: object) => (await t.http(method, path, { token, body })).status;

    expect(await status(read, 'GET', '/coupons')).toBe(200);
    expect(await status(read, 'GET', `/coupons/${id}`)).toBe(200);
    expect(await status(read, 'GET', `/coupons/${id}/stats`)).toBe(200);
    expect(await status(read, 'GET', `/coupons/${id}/issues`)).toBe(200);
    expect(await status(read, 'POST', '/coupons', { name: 'no', totalQuantity: 1 })).toBe(403);
    expect(await status(read, 'POST', '/issues/redeem', { code })).toBe(403);

    expect(await status(write, 'GET', '/coupons')).toBe(403);
    expect(await status(write, 'PATCH', `/coupons/${id}`, { name: 'renamed by a key' })).toBe(200);
    expect(await status(write, 'POST', '/issues/redeem', { code })).toBe(403);
    const created = await t.http('POST', '/coupons', { token: write, body: { name: 'made by a key', totalQuantity: 3 } });
    expect(created.status).toBe(201);
    expect(await status(write, 'DELETE', `/coupons/${created.body.id}`)).toBe(204);

    expect(await status(redeem, 'GET', `/coupons/${id}`)).toBe(403);
    const events = (await makeKey(['events:read'])).key;
    expect(await status(events, 'GET', '/events?limit=1')).toBe(200);
    expect(await status(read, 'GET', '/events?limit=1')).toBe(403);
    expect(await status(events, 'GET', '/coupons')).toBe(403);
    const redeemed = await t.http('POST', '/issues/redeem', { token: redeem, body: { code, orderRef: 'order-1' } });
    expect([redeemed.status, redeemed.body.status]).toEqual([200, 'REDEEMED']); // any holder's code: the checkout
    expect(await status(write, 'DELETE', `/coupons/${id}/issues/${issueId}`)).toBe(409); // redeemed: stays

    // whatever its scopes, a key never acts as a user, nor manages keys
    const all = (await makeKey(['issues:redeem', 'coupons:read', 'coupons:write', 'events:read'])).key;
    for (const [method, path] of [
      ['POST', `/coupons/${id}/issue`],
      ['DELETE', `/coupons/${id}/issue`],
      ['GET', `/coupons/${id}/issue`],
      ['GET', '/users/me'],
      ['GET', '/users/me/coupons'],
      ['POST', '/auth/logout'],
      ['GET', '/api-keys'],
      ['POST', `/coupons/${id}/reconcile`],
    ])
      expect([method, path, await status(all, method, path)]).toEqual([method, path, 403]);
  });

  it('refuses an unknown key, and a deleted one on every instance at once (401)', async () => {
    const other = await startTestApp('pessimistic');
    try {
      const { id, key } = await makeKey(['coupons:read']);
      expect((await other.http('GET', '/coupons', { token: key })).status).toBe(200);
      expect((await t.http('DELETE', `/api-keys/${id}`, { token: admin })).status).toBe(204);
      expect((await other.http('GET', '/coupons', { token: key })).status).toBe(401);
      expect((await t.http('DELETE', `/api-keys/${id}`, { token: admin })).status).toBe(404);
      expect((await t.http('GET', '/coupons', { token: `csk_${'A'.repeat(43)}` })).status).toBe(401);
      expect((await t.http('GET', '/coupons', { token: 'csk_short' })).status).toBe(401);
    } finally {
      await other.close();
    }
  });

  it('only an admin makes keys, and a bad body is 400 with nothing made', async () => {
    const [user] = await t.users(1);
    expect((await t.http('POST', '/api-keys', { token: user.token, body: { name: 'mine', scopes: ['coupons:read'] } })).status).toBe(403);
    const before = (await t.sql.query('SELECT count(*)::int AS n FROM api_keys')).rows[0].n;
    for (const body of [
      { name: 'x', scopes: [] },
      { name: 'x', scopes: ['coupons:delete'] },
      { name: 'x', scopes: ['coupons:read', 'coupons:read'] },
      { scopes: ['coupons:read'] },
      { name: 'x', scopes: ['coupons:read'], admin: true },
    ])
      expect((await t.http('POST', '/api-keys', { token: admin, body })).status).toBe(400);
    expect((await t.sql.query('SELECT count(*)::int AS n FROM api_keys')).rows[0].n).toBe(before);
  });

  it('counts requests per key id in /metrics, never its secret; records when it was last used', async () => {
    const { id, key } = await makeKey(['coupons:read']);
    expect((await t.http('GET', '/coupons', { token: key })).status).toBe(200);
    const metrics = (await t.http('GET', '/metrics')).body as string;
    expect(metrics).toContain(`coupon_api_key_requests_total{key="${id}",scope="coupons:read"} 1`);
    expect(metrics).not.toContain(key.slice(4));
    const listed = (await t.http('GET', '/api-keys', { token: admin })).body.items.find((k: { id: number }) => k.id === id);
    expect(listed.lastUsedAt).not.toBeNull();
  });
});

describe('a service key is rate limited like a user', () => {
  it('RATE_LIMIT_READ_PER_SECOND counts the key (429), while an admin polling is not counted', async () => {
    const t = await startTestApp('pessimistic', { RATE_LIMIT_READ_PER_SECOND: '3' });
    try {
      const admin = await t.adminToken();
      const { key } = (await t.http('POST', '/api-keys', { token: admin, body: { name: 'reader', scopes: ['coupons:read'] } })).body;
      const byKey = await Promise.all(Array.from({ length: 10 }, () => t.http('GET', '/coupons', { token: key })));
      expect(byKey.filter((a) => a.status === 429).length).toBeGreaterThanOrEqual(5);
      const byAdmin = await Promise.all(Array.from({ length: 10 }, () => t.http('GET', '/coupons', { token: admin })));
      expect(byAdmin.every((a) => a.status === 200)).toBe(true);
    } finally {
      await t.close();
    }
  });
});
