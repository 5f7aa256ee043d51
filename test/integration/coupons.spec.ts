import { startTestApp, TestApp } from '../support/test-app';

describe('coupons (HTTP)', () => {
  let t: TestApp;
  let admin: string;
  let user: string;

  beforeAll(async () => {
    t = await startTestApp();
    admin = await t.adminToken();
    [{ token: user }] = await t.users(1);
  });
  afterAll(() => t.close());

  const create = (body: object, token = admin) => t.http('POST', '/coupons', { token, body });

  describe('POST /coupons', () => {
    it('creates a coupon (201) with the Coupon shape', async () => {
      const res = await create({ name: 'Welcome 10%', totalQuantity: 100, startsAt: '2026-01-01T00:00:00Z', endsAt: '2099-01-01T00:00:00.000Z' });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.any(Number),
        name: 'Welcome 10%',
        totalQuantity: 100,
        issuedQuantity: 0,
        remainingQuantity: 100,
        startsAt: '2026-01-01T00:00:00.000Z',
        endsAt: '2099-01-01T00:00:00.000Z',
        status: 'ACTIVE',
        validDays: null,
        redeemUntil: null,
        createdAt: expect.any(String),
      });
    });

    it('is for admins only: 403 FORBIDDEN for a user, 401 without a token', async () => {
      expect((await create({ name: 'x', totalQuantity: 1 }, user)).body).toMatchObject({ statusCode: 403, code: 'FORBIDDEN' });
      expect((await t.http('POST', '/coupons', { body: { name: 'x', totalQuantity: 1 } })).status).toBe(401);
    });

    it.each([
      ['no name', { totalQuantity: 1 }],
      ['an empty name', { name: '', totalQuantity: 1 }],
      ['a NUL in the name', { name: 'a\u0000', totalQuantity: 1 }],
      ['an unpaired surrogate in the name', { name: 'half \ud83c of an emoji', totalQuantity: 1 }],
      ['a direction override in the name', { name: 'invoice\u202efdp.exe', totalQuantity: 1 }],
      ['a name of 201 characters', { name: 'x'.repeat(201), totalQuantity: 1 }],
      ['a name that is not a string', { name: { $gt: '' }, totalQuantity: 1 }],
      ['a quantity past PostgreSQL integer', { name: 'x', totalQuantity: 2_147_483_648 }],
      ['a quantity of 0', { name: 'x', totalQuantity: 0 }],
      ['a negative quantity', { name: 'x', totalQuantity: -5 }],
      ['a fractional quantity', { name: 'x', totalQuantity: 1.5 }],
      ['a quantity as a string', { name: 'x', totalQuantity: '10' }],
      ['a huge quantity', { name: 'x', totalQuantity: 1e20 }],
      ['a bad date', { name: 'x', totalQuantity: 1, startsAt: 'tomorrow' }],
      ['an end before the start', { name: 'x', totalQuantity: 1, startsAt: '2030-01-02T00:00:00Z', endsAt: '2030-01-01T00:00:00Z' }],
      ['issuedQuantity (mass assignment)', { name: 'x', totalQuantity: 10, issuedQuantity: 10 }],
      ['an id (mass assignment)', { name: 'x', totalQuantity: 10, id: 1 }],
    ])('answers 400 VALIDATION_FAILED for %s and creates nothing', async (_, body) => {
      const before = (await t.sql.query('SELECT count(*)::int AS n FROM coupons')).rows[0].n;
      const res = await create(body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED', message: expect.any(String) });
      expect((await t.sql.query('SELECT count(*)::int AS n FROM coupons')).rows[0].n).toBe(before);
    });
  });

  it('keeps names in any script exactly as sent: emoji, combining marks, right-to-left letters, astral CJK', async () => {
    const name = 'Café ☕ 50% — 五折 𠮷 🎟️👩‍👩‍👧 שלום مرحبا e\u0301';
    const res = await create({ name, totalQuantity: 3 });
    expect(res.status).toBe(201);
    expect(res.body.name).toBe(name);
    expect((await t.sql.query('SELECT name FROM coupons WHERE id = $1', [res.body.id])).rows[0].name).toBe(name);
  });

  describe('GET /coupons and /coupons/:id', () => {
    it('lists coupons newest first, paging with nextCursor', async () => {
      const ids: number[] = [];
      for (let i = 0; i < 3; i++) ids.push((await create({ name: `page ${i}`, totalQuantity: 5 })).body.id);
      const first = await t.http('GET', '/coupons?limit=2', { token: user });
      expect(first.status).toBe(200);
      expect(first.body.items.map((c: { id: number }) => c.id)).toEqual([ids[2], ids[1]]);
      const second = await t.http('GET', `/coupons?limit=2&cursor=${first.body.nextCursor}`, { token: user });
      expect(second.body.items[0].id).toBe(ids[0]);
    });

    it('gets one coupon; 404 COUPON_NOT_FOUND when missing; 400 for a malformed id', async () => {
      const { body: coupon } = await create({ name: 'get me', totalQuantity: 3 });
      expect((await t.http('GET', `/coupons/${coupon.id}`, { token: user })).body).toEqual(coupon);
      expect((await t.http('GET', '/coupons/999999999', { token: user })).body).toMatchObject({ statusCode: 404, code: 'COUPON_NOT_FOUND' });
      expect((await t.http('GET', '/coupons/abc', { token: user })).status).toBe(400);
      expect((await t.http('GET', '/coupons/99999999999', { token: user })).status).toBe(400);
      expect((await t.http('GET', '/coupons?limit=1000', { token: user })).status).toBe(400);
    });
  });

  describe('PATCH /coupons/:id', () => {
    it('updates fields (200) and refuses a total below what is issued (409 QUANTITY_BELOW_ISSUED)', async () => {
      const { body: coupon } = await create({ name: 'patch me', totalQuantity: 5 });
      const holders = await t.users(3);
      for (const h of holders) expect((await t.http('POST', `/coupons/${coupon.id}/issue`, { token: h.token })).status).toBe(201);

      const renamed = await t.http('PATCH', `/coupons/${coupon.id}`, { token: admin, body: { name: 'renamed', status: 'PAUSED', totalQuantity: 3 } });
      expect(renamed.status).toBe(200);
      expect(renamed.body).toMatchObject({ name: 'renamed', status: 'PAUSED', totalQuantity: 3, issuedQuantity: 3, remainingQuantity: 0 });

      const below = await t.http('PATCH', `/coupons/${coupon.id}`, { token: admin, body: { totalQuantity: 2 } });
      expect(below.status).toBe(409);
      expect(below.body.code).toBe('QUANTITY_BELOW_ISSUED');
      expect((await t.sql.query('SELECT total_quantity FROM coupons WHERE id = $1', [coupon.id])).rows[0].total_quantity).toBe(3);
    });

    it('clears a window with null, checks the merged window, and refuses unknown fields', async () => {
      const { body: coupon } = await create({ name: 'window', totalQuantity: 5, startsAt: '2030-01-01T00:00:00Z' });
      const cleared = await t.http('PATCH', `/coupons/${coupon.id}`, { token: admin, body: { startsAt: null } });
      expect(cleared.body.startsAt).toBeNull();
      const inverted = await t.http('PATCH', `/coupons/${coupon.id}`, {
        token: admin,
        body: { startsAt: '2030-01-02T00:00:00Z', endsAt: '2030-01-01T00:00:00Z' },
      });
      expect(inverted.status).toBe(400);
      const mass = await t.http('PATCH', `/coupons/${coupon.id}`, { token: admin, body: { issuedQuantity: 0 } });
      expect(mass.status).toBe(400);
      const badStatus = await t.http('PATCH', `/coupons/${coupon.id}`, { token: admin, body: { status: 'OPEN' } });
      expect(badStatus.status).toBe(400);
    });

    it('is for admins only, and 404 for a missing coupon', async () => {
      const { body: coupon } = await create({ name: 'guarded', totalQuantity: 5 });
      expect((await t.http('PATCH', `/coupons/${coupon.id}`, { token: user, body: { name: 'mine' } })).status).toBe(403);
      expect((await t.http('PATCH', '/coupons/999999999', { token: admin, body: { name: 'x' } })).body.code).toBe('COUPON_NOT_FOUND');
    });
  });

  describe('DELETE /coupons/:id', () => {
    it('deletes an unissued coupon (204), then 404', async () => {
      const { body: coupon } = await create({ name: 'delete me', totalQuantity: 5 });
      expect((await t.http('DELETE', `/coupons/${coupon.id}`, { token: user })).status).toBe(403);
      expect((await t.http('DELETE', `/coupons/${coupon.id}`, { token: admin })).status).toBe(204);
      expect((await t.http('DELETE', `/coupons/${coupon.id}`, { token: admin })).body.code).toBe('COUPON_NOT_FOUND');
    });

    it('refuses a coupon someone holds (409 COUPON_HAS_ISSUES)', async () => {
      const { body: coupon } = await create({ name: 'held', totalQuantity: 5 });
      expect((await t.http('POST', `/coupons/${coupon.id}/issue`, { token: user })).status).toBe(201);
      const res = await t.http('DELETE', `/coupons/${coupon.id}`, { token: admin });
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('COUPON_HAS_ISSUES');
      expect((await t.http('GET', `/coupons/${coupon.id}`, { token: user })).status).toBe(200);
    });
  });
});
