import { randomBytes } from 'node:crypto';
import { until } from '../support/burst';
import { type ApiProcess, kill, startApiProcess } from '../support/service-process';

/**
 * The real process's stdout: one JSON object per line; every line written while a request is
 * handled (here the SQL it runs, with DB_LOGGING) carries that request's id, the same one the
 * error body shows; passwords and tokens never appear.
 */
describe('structured logs (a real API process, LOG_LEVEL=debug, DB_LOGGING=true)', () => {
  const password = `pw-${randomBytes(8).toString('hex')}`;
  const email = `log-admin-${randomBytes(4).toString('hex')}@example.test`;
  let api: ApiProcess;

  beforeAll(async () => {
    api = await startApiProcess({ LOG_LEVEL: 'debug', DB_LOGGING: 'true', ADMIN_EMAIL: email, ADMIN_PASSWORD: password });
  });
  afterAll(() => kill(api.child, 'SIGTERM'));

  const lines = () =>
    api
      .output()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  it('tags every line of a request with its id, and keeps secrets out', async () => {
    const login = await fetch(`${api.baseUrl}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'log-test-login' },
      body: JSON.stringify({ email, password }),
    });
    expect(login.status).toBe(200);
    const { accessToken } = (await login.json()) as { accessToken: string };
    const missing = await fetch(`${api.baseUrl}/coupons/987654321`, {
      headers: { authorization: `Bearer ${accessToken}`, 'x-request-id': 'log-test-missing' },
    });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 'COUPON_NOT_FOUND', requestId: 'log-test-missing' });
    // the summary line of the last request is written once its response is sent
    await until(async () => (lines().some((l) => l.requestId === 'log-test-missing' && l.msg === 'request completed') ? true : undefined), {
      timeoutMs: 5000,
      what: 'the log lines of the request',
    });

    const all = lines(); // throws if any line is not JSON
    const ofRequest = (id: string) => all.filter((l) => l.requestId === id);
    // the login's SQL and its summary line, all carrying its id
    expect(ofRequest('log-test-login').some((l) => /FROM "?users"?/i.test(String(l.msg)))).toBe(true);
    expect(ofRequest('log-test-login')).toContainEqual(expect.objectContaining({ msg: 'request completed', res: { statusCode: 200 } }));
    expect(ofRequest('log-test-missing').some((l) => /FROM "?coupons"?/i.test(String(l.msg)))).toBe(true);
    expect(ofRequest('log-test-missing')).toContainEqual(
      expect.objectContaining({ req: { method: 'GET', url: '/coupons/987654321' }, res: { statusCode: 404 } }),
    );
    for (const line of all) expect(line).toMatchObject({ level: expect.any(String), time: expect.any(String) });
    expect(api.output()).not.toContain(password);
    expect(api.output()).not.toContain(accessToken);
    expect(api.output()).not.toContain(accessToken.split('.')[2]); // not even the signature alone
  });
});
