import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { Pool } from 'pg';
import { ensureLoadTestUsers } from '../../load/load-test-users';
import { signAccessToken } from '../../src/auth/token.service';
import { TEST_DATABASE_URL, TEST_JWT_SECRET } from '../setup/test-env';
import { fire, until } from '../support/burst';
import { httpClient } from '../support/http';
import { countStatuses, expectHolders } from '../support/invariants';
import { kill, startApiProcess } from '../support/service-process';

/** The processes whose parent is `pid` now. */
const childrenOf = (pid: number): number[] => {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when there are none
  }
};

/**
 * API_PROCESSES=2: one port, two API processes behind it (Node's cluster), the primary serving
 * nothing. The crowd is served by both and sold exactly; a process killed is replaced while the
 * other keeps answering; SIGTERM stops them all.
 */
describe('API_PROCESSES=2', () => {
  const sql = new Pool({ connectionString: TEST_DATABASE_URL, max: 2 });
  let primary: ChildProcess;
  let http: ReturnType<typeof httpClient>;
  let admin: string;

  beforeAll(async () => {
    const started = await startApiProcess({ API_PROCESSES: '2', ISSUANCE_STRATEGY: 'redis', RATE_LIMIT_ISSUE_PER_SECOND: '0' });
    primary = started.child;
    http = httpClient(started.baseUrl);
    const { rows } = await sql.query(`INSERT INTO users (email, password_hash, role) VALUES ($1, 'x', 'admin') RETURNING id`, [
      `admin-${randomBytes(6).toString('hex')}@example.test`,
    ]);
    admin = signAccessToken(TEST_JWT_SECRET, { id: rows[0].id, role: 'admin' }, 3600);
  }, 120_000);
  afterAll(async () => {
    if (primary) await kill(primary, 'SIGKILL');
    await sql.end();
  });

  const users = (count: number) =>
    ensureLoadTestUsers(TEST_DATABASE_URL, { secret: TEST_JWT_SECRET, expiresInSeconds: 3600 }, count, { prefix: `procs-${randomBytes(6).toString('hex')}` });
  /** Both API processes listening: each answered /health/live at least once (connections go round). */
  const untilBothServe = () => until(async () => (childrenOf(primary.pid!).length === 2 ? true : undefined), { timeoutMs: 60_000, what: 'two API processes' });

  it('300 users at once on 100 coupons through one port and two processes: exactly 100 issued', async () => {
    await untilBothServe();
    const res = await http('POST', '/coupons', { token: admin, body: { name: 'two processes', totalQuantity: 100 } });
    const id = res.body.id;
    const crowd = await users(300);
    const answers = await fire(http, id, crowd);
    expect(countStatuses(answers)).toEqual({ 201: 100, 409: 200 });
    await expectHolders(sql, id, new Set(answers.filter((a) => a.status === 201).map((a) => a.userId)));
  });

  it('an API process SIGKILLed: the other keeps answering, and the primary starts another', async () => {
    const [victim, survivor] = childrenOf(primary.pid!);
    process.kill(victim, 'SIGKILL');
    // connections the killed process held die with it (a reset); a new one reaches the other
    const answered = await until(async () => (await http('GET', '/health/live', { headers: { connection: 'close' } }).catch(() => undefined))?.status, {
      timeoutMs: 10_000,
      everyMs: 50,
      what: 'an answer from the surviving API process',
    });
    expect(answered).toBe(200);
    const replaced = await until(
      async () => {
        const now = childrenOf(primary.pid!);
        return now.length === 2 && !now.includes(victim) ? now : undefined;
      },
      { timeoutMs: 60_000, what: 'a new API process in place of the killed one' },
    );
    expect(replaced).toContain(survivor);
  });

  it('SIGTERM to the primary ends every API process, and the primary with code 0', async () => {
    const apiProcesses = childrenOf(primary.pid!);
    const exited = new Promise<number | null>((resolve) => primary.once('exit', (code) => resolve(code)));
    primary.kill('SIGTERM');
    expect(await exited).toBe(0);
    for (const pid of apiProcesses) expect(() => process.kill(pid, 0)).toThrow();
  });
});
