import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import createClient from 'openapi-fetch';
import { until } from '../support/burst';
import { startTestApp, TestApp } from '../support/test-app';
import type { paths } from '../client/api';

/**
 * What a shop's developer does: generate a typed client from the committed OpenAPI document
 * (openapi-typescript: `npx openapi-typescript docs/openapi.json -o api.d.ts`), then call the
 * service through it (openapi-fetch). Every call below is checked by the TypeScript compiler
 * against the document: paths, path parameters, headers, bodies, and the error body's `code`.
 * Copy it as the example of a client.
 */
describe('a client generated from docs/openapi.json (openapi-typescript + openapi-fetch), against the running service', () => {
  let t: TestApp;
  let admin: string;

  beforeAll(async () => {
    t = await startTestApp('queue', { RATE_LIMIT_ISSUE_PER_SECOND: '0' });
    admin = await t.adminToken();
  });
  afterAll(() => t.close());

  it('is generated from the committed document as it is now (npm run openapi writes both)', async () => {
    const root = join(__dirname, '../..');
    const out = join(mkdtempSync(join(tmpdir(), 'client-')), 'api.d.ts');
    await promisify(execFile)(join(root, 'node_modules/.bin/openapi-typescript'), ['docs/openapi.json', '-o', out], { cwd: root });
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(join(root, 'test/client/api.d.ts'), 'utf8'));
  });

  it('signs up, logs in, and takes a coupon through its life; every refusal answers its typed code', async () => {
    const anonymous = createClient<paths>({ baseUrl: t.baseUrl });
    const email = `client-${Date.now()}@example.test`;
    const signedUp = await anonymous.POST('/auth/signup', { body: { email, password: 'a-long-password', name: 'Client' } });
    expect(signedUp.data).toMatchObject({ email, role: 'user' });
    const loggedIn = await anonymous.POST('/auth/login', { body: { email, password: 'a-long-password' } });
    const me = createClient<paths>({ baseUrl: t.baseUrl, headers: { Authorization: `Bearer ${loggedIn.data!.accessToken}` } });
    const shop = createClient<paths>({ baseUrl: t.baseUrl, headers: { Authorization: `Bearer ${admin}` } });

    const created = await shop.POST('/coupons', { body: { name: 'generated client', totalQuantity: 5, validDays: 30 } });
    const id = created.data!.id;
    const path = { path: { id } };

    // queue: a 202, then poll; the same Idempotency-Key again is the first answer again
    const asked = await me.POST('/coupons/{id}/issue', { params: { ...path, header: { 'Idempotency-Key': 'checkout-1' } } });
    expect(asked.response.status).toBe(202);
    expect(asked.data).toEqual({ status: 'PENDING', couponId: id });
    const repeated = await me.POST('/coupons/{id}/issue', { params: { ...path, header: { 'Idempotency-Key': 'checkout-1' } } });
    expect([repeated.response.status, repeated.data]).toEqual([202, asked.data]);
    const issued = () => until(async () => ((await me.GET('/coupons/{id}/issue', { params: path })).data?.status === 'ISSUED' ? true : undefined));
    await issued();

    const again = await me.POST('/coupons/{id}/issue', { params: path });
    expect([again.response.status, again.error?.code]).toEqual([409, 'ALREADY_ISSUED']);

    expect((await me.DELETE('/coupons/{id}/issue', { params: path })).response.status).toBe(204); // given back
    expect((await me.POST('/coupons/{id}/issue', { params: path })).response.status).toBe(202); // asked again, no key
    await issued();
    const { data: state } = await me.GET('/coupons/{id}/issue', { params: path });
    const code = state!.issue!.code;

    const redeemed = await me.POST('/issues/redeem', { body: { code, orderRef: 'order-1' } });
    expect(redeemed.data).toMatchObject({ code, status: 'REDEEMED' });
    const twice = await me.POST('/issues/redeem', { body: { code, orderRef: 'order-2' } });
    expect([twice.response.status, twice.error?.code]).toEqual([409, 'ALREADY_REDEEMED']);

    const missing = await me.GET('/coupons/{id}', { params: { path: { id: 2_000_000_000 } } });
    expect([missing.response.status, missing.error?.code]).toEqual([404, 'COUPON_NOT_FOUND']);
    const forbidden = await me.POST('/coupons', { body: { name: 'not mine to make', totalQuantity: 1 } });
    expect([forbidden.response.status, forbidden.error?.code]).toEqual([403, 'FORBIDDEN']);
  });
});
