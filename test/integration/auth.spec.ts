import { JwtService } from '@nestjs/jwt';
import { createHmac, randomBytes } from 'node:crypto';
import * as argon2 from 'argon2';
import { ensureLoadTestUsers } from '../../load/load-test-users';
import { ARGON2_OPTIONS } from '../../src/auth/password-hasher';
import { signAccessToken } from '../../src/auth/token.service';
import { TEST_DATABASE_URL, TEST_JWT_SECRET } from '../setup/test-env';
import { startTestApp, TestApp } from '../support/test-app';
import { until } from '../support/burst';
import { countStatuses } from '../support/invariants';

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** Hand-made HS256 tokens, to forge exactly the claims a test needs. */
function handMadeToken(header: object, claims: object, secret = TEST_JWT_SECRET): string {
  const body = `${b64url(header)}.${b64url(claims)}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}
const now = () => Math.floor(Date.now() / 1000);

describe('auth and users (HTTP)', () => {
  let t: TestApp;
  const email = `jane-${randomBytes(4).toString('hex')}@Example.test`;
  const password = 'correct horse battery';

  beforeAll(async () => {
    t = await startTestApp('pessimistic', { ADMIN_EMAIL: 'boot-admin@example.test', ADMIN_PASSWORD: 'boot-admin-password' });
  });
  afterAll(() => t.close());

  describe('POST /auth/signup', () => {
    it('creates a user (201) with a normalised email and never returns the hash', async () => {
      const res = await t.http('POST', '/auth/signup', { body: { email, password, name: 'Jane 🎟️' } });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({ id: expect.any(Number), email: email.toLowerCase(), name: 'Jane 🎟️', role: 'user' });
      const { rows } = await t.sql.query('SELECT password_hash FROM users WHERE id = $1', [res.body.id]);
      expect(rows[0].password_hash).toMatch(/^\$argon2id\$/);
    });

    it('refuses a taken email with 409 EMAIL_TAKEN (case-insensitively)', async () => {
      const res = await t.http('POST', '/auth/signup', { body: { email: email.toUpperCase(), password } });
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ statusCode: 409, code: 'EMAIL_TAKEN', message: expect.any(String) });
    });

    it.each([
      ['a bad email', { email: 'not-an-email', password }],
      ['a short password', { email: 'short@example.test', password: 'short' }],
      ['a missing password', { email: 'missing@example.test' }],
      ['a wrong type', { email: 'type@example.test', password: 12345678 }],
      ['an unknown field (mass assignment)', { email: 'mass@example.test', password, role: 'admin' }],
      ['a control character in the name', { email: 'ctl@example.test', password, name: 'a\u0000b' }],
    ])('answers 400 VALIDATION_FAILED for %s and creates nothing', async (_, body) => {
      const res = await t.http('POST', '/auth/signup', { body });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      const { rows } = await t.sql.query('SELECT count(*)::int AS n FROM users WHERE email = $1', [(body as { email: string }).email]);
      expect(rows[0].n).toBe(0);
    });

    it('answers 400 for malformed JSON and for a JSON array', async () => {
      const malformed = await t.http('POST', '/auth/signup', { rawBody: '{"email":', headers: { 'content-type': 'application/json' } });
      expect(malformed.status).toBe(400);
      expect(malformed.body.code).toBe('VALIDATION_FAILED');
      const array = await t.http('POST', '/auth/signup', { body: [1, 2] });
      expect(array.status).toBe(400);
    });

    it('answers 413 for a huge body', async () => {
      const res = await t.http('POST', '/auth/signup', { body: { email, password, name: 'x'.repeat(100_000) } });
      expect(res.status).toBe(413);
      expect(res.body.code).toBe('PAYLOAD_TOO_LARGE');
    });
  });

  describe('POST /auth/login', () => {
    it('gives a Bearer token whose claims are sub (string id), role, iat, exp and gen (the token generation revocation compares)', async () => {
      const res = await t.http('POST', '/auth/login', { body: { email, password } });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ accessToken: expect.any(String), tokenType: 'Bearer', expiresIn: 3600 });
      const [header, claims] = res.body.accessToken
        .split('.')
        .slice(0, 2)
        .map((p: string) => JSON.parse(Buffer.from(p, 'base64url').toString()));
      expect(header.alg).toBe('HS256');
      expect(claims).toEqual({ sub: expect.stringMatching(/^\d+$/), role: 'user', iat: expect.any(Number), exp: expect.any(Number), gen: 0 });
      expect(claims.exp - claims.iat).toBe(3600);
    });

    it.each([
      ['a wrong password', { email, password: 'wrong password' }],
      ['an unknown email', { email: 'nobody@example.test', password }],
    ])('answers 401 INVALID_CREDENTIALS for %s', async (_, body) => {
      const res = await t.http('POST', '/auth/login', { body });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('INVALID_CREDENTIALS');
    });

    it('logs in the admin bootstrapped from ADMIN_EMAIL/ADMIN_PASSWORD, with the admin role', async () => {
      const res = await t.http('POST', '/auth/login', { body: { email: 'boot-admin@example.test', password: 'boot-admin-password' } });
      expect(res.status).toBe(200);
      const me = await t.http('GET', '/users/me', { token: res.body.accessToken });
      expect(me.body).toMatchObject({ email: 'boot-admin@example.test', role: 'admin' });
    });
  });

  describe('GET /users/me and token checks', () => {
    let token: string;
    let userId: number;
    beforeAll(async () => {
      token = (await t.http('POST', '/auth/login', { body: { email, password } })).body.accessToken;
      userId = (await t.http('GET', '/users/me', { token })).body.id;
    });

    it('returns the caller', async () => {
      const res = await t.http('GET', '/users/me', { token });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ id: userId, email: email.toLowerCase(), name: 'Jane 🎟️', role: 'user' });
    });

    const forged: [string, () => string][] = [
      ['no token', () => ''],
      ['a forged signature', () => `${token.split('.').slice(0, 2).join('.')}.${randomBytes(32).toString('base64url')}`],
      ['another secret', () => signAccessToken('some-other-secret-of-enough-length-0123', { id: userId, role: 'user' }, 60)],
      ['alg: none', () => `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: String(userId), role: 'user', gen: 0, iat: now(), exp: now() + 60 })}.`],
      ['an expired token', () => handMadeToken({ alg: 'HS256', typ: 'JWT' }, { sub: String(userId), role: 'user', gen: 0, iat: now() - 120, exp: now() - 60 })],
      ['no exp claim', () => handMadeToken({ alg: 'HS256', typ: 'JWT' }, { sub: String(userId), role: 'user', gen: 0, iat: now() })],
      [
        'HS512 instead of HS256',
        () => {
          const body = `${b64url({ alg: 'HS512', typ: 'JWT' })}.${b64url({ sub: String(userId), role: 'user', gen: 0, iat: now(), exp: now() + 60 })}`;
          return `${body}.${createHmac('sha512', TEST_JWT_SECRET).update(body).digest('base64url')}`;
        },
      ],
      ['a non-numeric sub', () => handMadeToken({ alg: 'HS256', typ: 'JWT' }, { sub: 'admin', role: 'user', gen: 0, iat: now(), exp: now() + 60 })],
      ['an unknown role', () => handMadeToken({ alg: 'HS256', typ: 'JWT' }, { sub: String(userId), role: 'root', gen: 0, iat: now(), exp: now() + 60 })],
      ['garbage', () => 'not.a.jwt'],
    ];
    it.each(forged)('answers 401 UNAUTHORIZED for %s', async (_, make) => {
      const res = await t.http('GET', '/users/me', { token: make() || undefined });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('UNAUTHORIZED');
    });

    it('answers 401 on every authenticated route to the token of a user deleted since, admin or not', async () => {
      const admin = await t.adminToken();
      const couponId = await t.createCoupon(admin, 5, 'ghosts');
      const [victim] = await t.users(1);
      const adminId = Number(JSON.parse(Buffer.from(admin.split('.')[1], 'base64url').toString()).sub);
      expect((await t.http('GET', '/users/me', { token: victim.token })).status).toBe(200);
      await t.sql.query('DELETE FROM users WHERE id = ANY($1::int[])', [[victim.userId, adminId]]);
      const routes: [string, string, object?][] = [
        ['GET', '/users/me'],
        ['GET', '/users/me/coupons'],
        ['GET', '/auth/session'],
        ['GET', '/coupons'],
        ['GET', `/coupons/${couponId}`],
        ['POST', `/coupons/${couponId}/issue`],
        ['GET', `/coupons/${couponId}/issue`],
        ['GET', `/coupons/${couponId}/stats`],
        ['GET', `/coupons/${couponId}/issues`],
        ['POST', `/coupons/${couponId}/reconcile`],
        ['POST', '/coupons', { name: 'x', totalQuantity: 1 }],
        ['PATCH', `/coupons/${couponId}`, { name: 'hijacked' }],
        ['DELETE', `/coupons/${couponId}`],
      ];
      for (const token of [victim.token, admin]) {
        for (const [method, path, body] of routes) {
          const res = await t.http(method, path, { token, body });
          expect({ route: `${method} ${path}`, status: res.status, code: res.body?.code }).toEqual({
            route: `${method} ${path}`,
            status: 401,
            code: 'UNAUTHORIZED',
          });
        }
      }
      // nothing they asked for happened
      expect((await t.sql.query('SELECT name FROM coupons WHERE id = $1', [couponId])).rows).toEqual([{ name: 'ghosts' }]);
      expect((await t.sql.query('SELECT count(*)::int AS n FROM coupon_issues WHERE coupon_id = $1', [couponId])).rows[0].n).toBe(0);
    });

    it("a role change revokes the tokens signed before it: a demoted admin's old token gets 401, and a token signed as admin later still 403", async () => {
      const admin = await t.adminToken();
      const adminId = Number(JSON.parse(Buffer.from(admin.split('.')[1], 'base64url').toString()).sub);
      expect((await t.http('POST', '/coupons', { token: admin, body: { name: 'before', totalQuantity: 1 } })).status).toBe(201);
      await t.sql.query(`UPDATE users SET role = 'user' WHERE id = $1`, [adminId]); // by hand: the trigger revokes
      const res = await t.http('POST', '/coupons', { token: admin, body: { name: 'after', totalQuantity: 1 } });
      expect(res).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED' } });
      // a token claiming admin, issued after the change: the role held now decides
      const { rows } = await t.sql.query('SELECT token_generation AS gen FROM users WHERE id = $1', [adminId]);
      const later = new JwtService({ secret: TEST_JWT_SECRET }).sign({ role: 'admin', gen: rows[0].gen }, { subject: String(adminId), expiresIn: 60 });
      const again = await t.http('POST', '/coupons', { token: later, body: { name: 'after', totalQuantity: 1 } });
      expect(again).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
      expect((await t.sql.query(`SELECT count(*)::int AS n FROM coupons WHERE name = 'after'`)).rows[0].n).toBe(0);
    });
  });

  describe('log-out and password change revoke earlier tokens', () => {
    const login = async (who: string, pass: string) => t.http('POST', '/auth/login', { body: { email: who, password: pass } });
    const me = (token: string) => t.http('GET', '/users/me', { token });
    const newAccount = async () => {
      const who = `revoke-${randomBytes(4).toString('hex')}@example.test`;
      expect((await t.http('POST', '/auth/signup', { body: { email: who, password: 'first-password' } })).status).toBe(201);
      return who;
    };

    it('POST /auth/logout: every token issued until then gets 401 (those already verified and remembered too); a log-in right after works', async () => {
      const who = await newAccount();
      const [a, b] = [(await login(who, 'first-password')).body.accessToken, (await login(who, 'first-password')).body.accessToken];
      expect((await me(a)).status).toBe(200);
      expect((await me(b)).status).toBe(200);
      expect((await t.http('POST', '/auth/logout', { token: a })).status).toBe(204);
      for (const token of [a, b])
        expect(await me(token)).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED', message: expect.stringMatching(/revoked/) } });
      expect((await t.http('POST', '/auth/logout', { token: a })).status).toBe(401);
      const fresh = (await login(who, 'first-password')).body.accessToken; // within the same second, too
      expect((await me(fresh)).status).toBe(200);
    });

    it("revocation is exact: a password change, a log-in and a log-out inside one second leave that log-in's token refused", async () => {
      const who = await newAccount();
      const first = (await login(who, 'first-password')).body.accessToken;
      // begin at the start of a second, so that the three steps fall inside it: a mark of whole
      // seconds (what revocation compared before) could not tell the log-in from the log-out
      await until(async () => (Date.now() % 1000 < 50 ? true : undefined), { everyMs: 2, what: 'the start of a second' });
      expect(
        (await t.http('PATCH', '/users/me/password', { token: first, body: { currentPassword: 'first-password', newPassword: 'second-password' } })).status,
      ).toBe(204);
      const token = (await login(who, 'second-password')).body.accessToken;
      expect((await me(token)).status).toBe(200);
      expect((await t.http('POST', '/auth/logout', { token })).status).toBe(204);
      expect(await me(token)).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED' } });
      expect((await me(first)).status).toBe(401);
    });

    it('PATCH /users/me/password with a stolen token is no oracle: 30 wrong guesses at once are mostly 429, and count against log-in too', async () => {
      const who = await newAccount();
      const token = (await login(who, 'first-password')).body.accessToken;
      const guesses = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          t.http('PATCH', '/users/me/password', { token, body: { currentPassword: `guess-${i}-wrong`, newPassword: 'stolen-account' } }),
        ),
      );
      const statuses = countStatuses(guesses);
      expect(statuses[429]).toBeGreaterThanOrEqual(25); // at most 2 weighed at once (the log-in policy's cap)
      expect((statuses[401] ?? 0) + statuses[429]).toBe(30);
      // the failures are the account's, as a log-in's are: 5 more from this address, then it waits
      for (let i = 0; i < 6; i++)
        await t.http('PATCH', '/users/me/password', { token, body: { currentPassword: `more-${i}-wrong`, newPassword: 'stolen-account' } });
      expect(await login(who, 'first-password')).toMatchObject({ status: 429, body: { code: 'RATE_LIMITED' } });
      expect((await me(token)).status).toBe(200); // and the password was never changed
    });

    it('PATCH /users/me/password: the current password is required; after the change old tokens and the old password are refused', async () => {
      const who = await newAccount();
      const token = (await login(who, 'first-password')).body.accessToken;
      const change = (body: unknown, bearer = token) => t.http('PATCH', '/users/me/password', { token: bearer, body });
      expect(await change({ currentPassword: 'wrong-password', newPassword: 'second-password' })).toMatchObject({
        status: 401,
        body: { code: 'INVALID_CREDENTIALS' },
      });
      for (const body of [
        { currentPassword: 'first-password', newPassword: 'short' },
        { currentPassword: 'first-password' },
        { currentPassword: 'first-password', newPassword: 'second-password', extra: 1 },
      ]) {
        expect((await change(body)).status).toBe(400);
      }
      expect((await me(token)).status).toBe(200); // nothing changed by the refusals

      expect((await change({ currentPassword: 'first-password', newPassword: 'second-password' })).status).toBe(204);
      expect((await me(token)).status).toBe(401);
      expect((await login(who, 'first-password')).status).toBe(401);
      const fresh = await login(who, 'second-password');
      expect(fresh.status).toBe(200);
      expect((await me(fresh.body.accessToken)).status).toBe(200);
    });
  });

  describe('load-test accounts', () => {
    it('cannot be logged in to, not even those made with the password they once shared; their signed tokens work', async () => {
      const prefix = `loadtest-old-${randomBytes(4).toString('hex')}`;
      const first = `${prefix}-1@example.test`;
      // made the old way: the one password every load-test account shared, public in the repository
      await t.sql.query('INSERT INTO users (email, password_hash) VALUES ($1, $2)', [first, await argon2.hash('loadtest-password', ARGON2_OPTIONS)]);
      const login = (who: string) => t.http('POST', '/auth/login', { body: { email: who, password: 'loadtest-password' } });
      expect((await login(first)).status).toBe(200);

      const users = await ensureLoadTestUsers(TEST_DATABASE_URL, { secret: TEST_JWT_SECRET, expiresInSeconds: 60 }, 2, { prefix });
      for (const who of [first, `${prefix}-2@example.test`]) expect((await login(who)).body).toMatchObject({ statusCode: 401, code: 'INVALID_CREDENTIALS' });
      for (const u of users) expect((await t.http('GET', '/users/me', { token: u.token })).status).toBe(200);
    });
  });
});
