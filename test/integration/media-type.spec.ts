import { startTestApp, TestApp } from '../support/test-app';

/**
 * JSON in, or nothing: a form or text body (what a cross-site HTML form can send without a
 * preflight) gets 415 UNSUPPORTED_MEDIA_TYPE and changes nothing.
 */
describe('request bodies are JSON only', () => {
  let t: TestApp;
  let admin: string;
  let couponId: number;

  beforeAll(async () => {
    t = await startTestApp('pessimistic');
    admin = await t.adminToken();
    couponId = await t.createCoupon(admin, 10, 'media types');
  });
  afterAll(() => t.close());

  const FOREIGN = [
    { 'content-type': 'application/x-www-form-urlencoded', body: (fields: Record<string, string>) => new URLSearchParams(fields).toString() },
    { 'content-type': 'text/plain', body: (fields: Record<string, string>) => JSON.stringify(fields) },
    { 'content-type': 'multipart/form-data; boundary=x', body: () => '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--x--\r\n' },
  ];

  it.each(FOREIGN)('$content-type: 415 on every route that takes a body, nothing written', async (media) => {
    const email = `form-${Date.now()}-${media['content-type'].length}@example.test`;
    const [user] = await t.users(1);
    const send = (method: string, path: string, fields: Record<string, string>, token?: string) =>
      t.http(method, path, { token, rawBody: media.body(fields), headers: { 'content-type': media['content-type'] } });

    const answers = [
      await send('POST', '/auth/signup', { email, password: 'a good password' }),
      await send('POST', '/auth/login', { email, password: 'a good password' }),
      await send('POST', '/coupons', { name: 'by form', totalQuantity: '5' }, admin),
      await send('PATCH', `/coupons/${couponId}`, { name: 'renamed by form' }, admin),
      await send('POST', `/coupons/${couponId}/issue`, { x: '1' }, user.token),
      await send('POST', '/issues/redeem', { code: 'AAAAAAAAAAAAAAAAAAAA' }, user.token),
    ];
    for (const a of answers) expect(a.body).toMatchObject({ statusCode: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
    expect((await t.sql.query('SELECT count(*)::int AS n FROM users WHERE email = $1', [email])).rows[0].n).toBe(0);
    expect((await t.sql.query("SELECT count(*)::int AS n FROM coupons WHERE name IN ('by form', 'renamed by form')")).rows[0].n).toBe(0);
    expect((await t.sql.query('SELECT count(*)::int AS n FROM coupon_issues WHERE coupon_id = $1', [couponId])).rows[0].n).toBe(0);
  });

  it('JSON, and no body at all where none is needed, work as before', async () => {
    const [user] = await t.users(1);
    expect((await t.http('POST', `/coupons/${couponId}/issue`, { token: user.token })).status).toBe(201);
    expect((await t.http('POST', '/coupons', { token: admin, body: { name: 'by json', totalQuantity: 5 } })).status).toBe(201);
  });
});
