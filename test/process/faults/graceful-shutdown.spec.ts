import type { ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LoadTestUser } from '../../../load/load-test-users';
import { until } from '../../support/burst';
import { expectHistoryHolds } from '../../support/history';
import { countStatuses } from '../../support/invariants';
import { untilIdle, untilWorkersConnected } from '../../support/queue-state';
import { holdCouponRow, untilLockWaiters } from '../../support/row-lock';
import { untilRequestsReceived } from '../../support/server-sockets';
import { type ApiProcess, kill, startApiProcess, startWorkerProcess } from '../../support/service-process';
import { startTestApp } from '../../support/test-app';

/**
 * Faults on real processes: an API process gets SIGTERM with requests in flight. After each, the client-side history is checked against
 * PostgreSQL (support/history.ts).
 */
jest.setTimeout(180_000);

type Answer = { status: number; code?: string; error?: string };

/** A POST on a connection of its own; `sent` resolves once the whole request is written to it. */
function postOnNewConnection(baseUrl: string, path: string, token: string): { sent: Promise<void>; answer: Promise<Answer> } {
  let sent!: () => void;
  const written = new Promise<void>((resolve) => (sent = resolve));
  const answer = new Promise<Answer>((resolve) => {
    const req = httpRequest(`${baseUrl}${path}`, { method: 'POST', agent: false, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, code: (JSON.parse(text || '{}') as { code?: string }).code }));
      res.on('error', (error: NodeJS.ErrnoException) => resolve({ status: 0, error: error.code ?? error.message }));
    });
    req.on('finish', sent);
    req.on('error', (error: NodeJS.ErrnoException) => (sent(), resolve({ status: 0, error: error.code ?? error.message })));
    req.end();
  });
  return { sent: written, answer };
}

describe('graceful shutdown of a real API process (SIGTERM)', () => {
  let api: ApiProcess | undefined;
  let worker: ChildProcess | undefined;
  afterEach(async () => {
    if (api) await kill(api.child);
    if (worker) await kill(worker);
    api = worker = undefined;
  });

  const exitOf = (child: ChildProcess) =>
    new Promise<{ code: number | null; signal: string | null; at: number }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })),
    );
  /** Nest closes everything, then ends the process with the signal it got; else its log says why. */
  const expectStoppedCleanly = ({ code, signal }: { code: number | null; signal: string | null }) => {
    if (code !== 0 && signal !== 'SIGTERM') throw new Error(`the API ended with ${code ?? signal}; its log ends:\n${api!.output().slice(-4000)}`);
  };

  // In both, the write of a reserved or decided request waits on the coupon row's lock.
  it.each(['pessimistic', 'redis'] as const)('%s: finishes the requests in flight before exiting, and drops nothing it said yes to', async (strategy) => {
    // the helper app is only used for setup and SQL; the process under test is separate
    const t = await startTestApp('pessimistic');
    let lock: { release: () => Promise<void> } | undefined;
    try {
      const admin = await t.adminToken();
      const id = await t.createCoupon(admin, 30, `sigterm ${strategy}`);
      const users = await t.users(40);
      api = await startApiProcess({ ISSUANCE_STRATEGY: strategy, DB_LOCK_TIMEOUT_MS: '10000', RATE_LIMIT_ISSUE_PER_SECOND: '0' });
      const exited = exitOf(api.child);

      // hold the coupon's row so that every request is in flight when SIGTERM comes: all sent, and
      // the first of them waiting on the lock
      lock = await holdCouponRow(t.sql, id);
      const requests = users.map((u) => ({ userId: u.userId, ...postOnNewConnection(api!.baseUrl, `/coupons/${id}/issue`, u.token) }));
      let answeredSoFar = 0;
      const inFlight = Promise.all(requests.map(async (r) => ({ userId: r.userId, ...(await r.answer.finally(() => answeredSoFar++)) })));
      await Promise.all(requests.map((r) => r.sent));
      await untilRequestsReceived(api.child.pid!, Number(new URL(api.baseUrl).port), users.length, () => answeredSoFar);
      await untilLockWaiters(t.sql);
      api.child.kill('SIGTERM');
      // new connections are refused once it is closing
      const late = () =>
        fetch(`${api!.baseUrl}/health/live`).then(
          (r) => r.status,
          () => 0,
        );
      await until(async () => ([0, 503].includes(await late()) ? true : undefined), { timeoutMs: 5000, what: 'new connections to be refused' });
      await lock.release();

      const answered = await inFlight;
      const answeredAt = performance.now();
      expect(answered.filter((a) => a.error)).toEqual([]); // none dropped without an answer
      expect(countStatuses(answered)).toEqual({ 201: 30, 409: 10 });
      const exit = await exited;
      expectStoppedCleanly(exit);
      expect(exit.at - answeredAt).toBeLessThan(5000); // not held open by idle keep-alive sockets
      await expectHistoryHolds(t.sql, id, answered);
    } finally {
      await lock?.release();
      await t.close();
    }
  });

  it('queue: SIGTERM while accepting, its worker holding jobs it cannot write: every 202 is issued by the next worker', async () => {
    // the helper consumes nothing (RUN_WORKER=false): the API process under test is the only worker
    const t = await startTestApp('queue', { RUN_WORKER: 'false' });
    let lock: { release: () => Promise<void> } | undefined;
    try {
      const admin = await t.adminToken();
      const id = await t.createCoupon(admin, 100, 'sigterm queue');
      const users = await t.users(200);
      // its writes wait on the row lock as long as it is held (no lock timeout settling them first)
      const patient = { DB_LOCK_TIMEOUT_MS: '600000', DB_STATEMENT_TIMEOUT_MS: '600000' };
      api = await startApiProcess({ ISSUANCE_STRATEGY: 'queue', RUN_WORKER: 'true', RATE_LIMIT_ISSUE_PER_SECOND: '0', LOG_LEVEL: 'warn', ...patient });
      const exited = exitOf(api.child);
      await untilWorkersConnected(1);

      lock = await holdCouponRow(t.sql, id);
      const post = (u: LoadTestUser) => postOnNewConnection(api!.baseUrl, `/coupons/${id}/issue`, u.token).answer.then((r) => ({ userId: u.userId, ...r }));
      // accepted, and in the worker's hands: its job waits on the lock
      const held = await Promise.all(users.slice(0, 50).map(post));
      expect(countStatuses(held)).toEqual({ 202: 50 });
      // the rest arrive as a stream, one new connection every 4 ms, across the SIGTERM (timing that
      // makes the scenario, not a wait for something to happen)
      const stream = Promise.all(users.slice(50).map(async (u, i) => (await sleep(i * 4), post(u))));
      await sleep(300);
      const signalledAt = performance.now();
      api.child.kill('SIGTERM');
      const streamed = await stream;
      // the worker gives up the jobs it cannot finish within its 10 s; the process then exits
      const exit = await exited;
      expectStoppedCleanly(exit);
      expect(exit.at - signalledAt).toBeLessThan(20_000);
      // no answer means the port was closed (refused), or the connection was still waiting in the
      // backlog or had sent nothing yet (reset); Fastify answers 503 to a request that starts
      // after close. None of those was processed: the count of rows below shows it.
      expect(streamed.filter((a) => a.error && !['ECONNREFUSED', 'ECONNRESET'].includes(a.error))).toEqual([]);
      expect(streamed.filter((a) => a.status === 202).length).toBeGreaterThan(0);
      await lock.release();

      worker = startWorkerProcess();
      await untilIdle(t, admin, id, 90_000);
      const history = [...held, ...streamed];
      const accepted = history.filter((a) => a.status === 202);
      const facts = await expectHistoryHolds(t.sql, id, history);
      expect(facts.rows).toBe(accepted.length); // nothing accepted dropped; nothing cut off mid-request was written
      for (const a of accepted) {
        const token = users.find((u) => u.userId === a.userId)!.token;
        expect((await t.http('GET', `/coupons/${id}/issue`, { token })).body.status).toBe('ISSUED');
      }
    } finally {
      await lock?.release();
      await t.close();
    }
  });
});
