import { createHmac, randomBytes } from 'node:crypto';
import { until } from '../support/burst';
import { countStatuses } from '../support/invariants';
import { AUDIENCE, IdentityProvider, ISSUER, ProviderKey } from '../support/identity-provider';
import { startTestApp, TestApp } from '../support/test-app';

const base64url = (value: object | string) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
/** A token signed HS256 with `secret`, whatever it claims. */
const hs256 = (header: object, claims: object, secret: string | Buffer) => {
  const input = `${base64url(header)}.${base64url(claims)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
};

/** External identity: the shop's own tokens (RS256, ES256 from its key set) beside the service's. */
describe('the shop’s identity provider (AUTH_JWKS_URL)', () => {
  const provider = new IdentityProvider();
  let t: TestApp;
  let rsa: ProviderKey;
  let ec: ProviderKey;
  let jwksUrl: string;

  beforeAll(async () => {
    jwksUrl = await provider.start();
    rsa = await provider.key('RS256', 'rsa-1');
    ec = await provider.key('ES256', 'ec-1');
    t = await startTestApp('pessimistic', { AUTH_JWKS_URL: jwksUrl, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE });
  });
  afterAll(async () => {
    await t?.close();
    await provider.stop();
  });

  const me = (token: string) => t.http('GET', '/users/me', { token });
  const subject = () => `shop-customer-${randomBytes(6).toString('hex')}`;
  const usersOf = async (sub: string) => (await t.sql.query('SELECT id FROM users WHERE external_subject = $1', [sub])).rows;

  it('accepts RS256 and ES256 tokens of its key set: the customer is a user of the service, made on first sight', async () => {
    for (const key of [rsa, ec]) {
      const sub = subject();
      const answer = await me(await provider.sign(key, { sub }));
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ role: 'user', email: null });
      expect(await usersOf(sub)).toEqual([{ id: answer.body.id }]);
    }
    // no password here to change (nor a guess at one to weigh: theirs is the provider's)
    const token = await provider.sign(rsa, { sub: subject() });
    const change = await t.http('PATCH', '/users/me/password', {
      token,
      body: { currentPassword: 'decoy-password-never-used', newPassword: 'a-new-password-1' },
    });
    expect([change.status, change.body.code]).toEqual([401, 'INVALID_CREDENTIALS']);
  });

  it('a customer of the shop gets a coupon, once, and finds it in their list; the service’s own tokens keep working', async () => {
    const admin = await t.adminToken();
    const id = await t.createCoupon(admin, 5, 'shop customers');
    const token = await provider.sign(rsa, { sub: subject() });
    expect((await t.http('POST', `/coupons/${id}/issue`, { token })).status).toBe(201);
    expect((await t.http('POST', `/coupons/${id}/issue`, { token })).body.code).toBe('ALREADY_ISSUED');
    expect((await t.http('GET', '/users/me/coupons', { token })).body.items).toEqual([expect.objectContaining({ couponId: id })]);
    const [own] = await t.users(1);
    expect((await t.http('POST', `/coupons/${id}/issue`, { token: own.token })).status).toBe(201);
  });

  it('refuses forged and invalid tokens with 401, and makes no user for them', async () => {
    const now = Math.floor(Date.now() / 1000);
    const unpublished = await provider.key('RS256', 'rsa-1', false); // the published kid, another key
    const sub = subject();
    const claims = { iss: ISSUER, aud: AUDIENCE, sub, iat: now, exp: now + 300 };
    const forged: Record<string, string> = {
      'HS256 keyed with the provider’s public key': hs256({ alg: 'HS256', kid: rsa.kid, typ: 'JWT' }, claims, rsa.publicPem),
      'alg none': `${base64url({ alg: 'none', kid: rsa.kid })}.${base64url(claims)}.`,
      'signed by a key not in the set': await provider.sign(unpublished, { sub }),
      'another issuer': await provider.sign(rsa, { sub, iss: 'https://evil.test/' }),
      'another audience': await provider.sign(ec, { sub, aud: 'another-service' }),
      'expired a minute ago': await provider.sign(rsa, { sub, exp: now - 60 }),
      'not valid for two more minutes': await provider.sign(rsa, { sub, nbf: now + 120 }),
      'without exp': await provider.sign(rsa, { sub, exp: undefined }),
      'without sub': await provider.sign(rsa, { sub: undefined }),
      'sub of 256 characters': await provider.sign(rsa, { sub: 'x'.repeat(256) }),
    };
    for (const [what, token] of Object.entries(forged)) expect([what, (await me(token)).status]).toEqual([what, 401]);
    expect(await usersOf(sub)).toEqual([]);
    // within the leeway of 30 s both ways
    expect((await me(await provider.sign(rsa, { sub, exp: now - 10, nbf: now + 10 }))).status).toBe(200);
  });

  it('a flood of unknown kids fetches the key set at most once more', async () => {
    const before = provider.fetches;
    const strangers = await Promise.all(Array.from({ length: 5 }, (_, i) => provider.key('ES256', `forged-${i}`, false)));
    const tokens = await Promise.all(Array.from({ length: 200 }, (_, i) => provider.sign(strangers[i % 5], { sub: subject() })));
    const answers = await Promise.all(tokens.map((token) => me(token)));
    expect(countStatuses(answers)).toEqual({ 401: 200 });
    expect(provider.fetches - before).toBeLessThanOrEqual(1);
  });

  it('200 concurrent first requests of one new customer, through two instances, make one user', async () => {
    const other = await startTestApp('pessimistic', { AUTH_JWKS_URL: jwksUrl, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE });
    try {
      const sub = subject();
      const tokens = await Promise.all(Array.from({ length: 200 }, (_, i) => provider.sign(i % 2 ? rsa : ec, { sub, jti: String(i) })));
      const answers = await Promise.all(tokens.map((token, i) => (i % 2 ? other : t).http('GET', '/users/me', { token })));
      expect(countStatuses(answers)).toEqual({ 200: 200 });
      expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
      expect(await usersOf(sub)).toHaveLength(1);
    } finally {
      await other.close();
    }
  });

  it('a rotated key: tokens of the new key are accepted once the set is fetched again (within 30 s), those of the retired one refused', async () => {
    const next = await provider.key('ES256', 'ec-2');
    provider.published = provider.published.filter((k) => k !== ec);
    const sub = subject();
    await until(async () => ((await me(await provider.sign(next, { sub }))).status === 200 ? true : undefined), {
      timeoutMs: 40_000,
      everyMs: 500,
      what: 'the new key accepted',
    });
    expect((await me(await provider.sign(ec, { sub: subject() }))).status).toBe(401);
    expect((await me(await provider.sign(rsa, { sub: subject() }))).status).toBe(200);
  }, 60_000);
});

describe('the shop’s identity provider out of reach', () => {
  it('answers 503, not 401: the token may be good', async () => {
    const provider = new IdentityProvider();
    const jwksUrl = await provider.start();
    const key = await provider.key('RS256', 'rsa-1');
    await provider.stop();
    const t = await startTestApp('pessimistic', { AUTH_JWKS_URL: jwksUrl, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE });
    try {
      const answer = await t.http('GET', '/users/me', { token: await provider.sign(key) });
      expect([answer.status, answer.body.code]).toEqual([503, 'UNAVAILABLE']);
    } finally {
      await t.close();
    }
  });
});
