/**
 * `npm run chaos -- --seed N --seconds S [--strategy pessimistic|redis|queue|all] [--redis-cluster]`
 *
 * A seeded fault checker in Jepsen's spirit: real processes (2 APIs, and 2 workers for `queue`) on
 * a PostgreSQL and a Redis of its own, a few hundred users and an admin acting at once on a few
 * small coupons, faults injected at random, every request and answer recorded, then the history
 * and the final state checked against the contract (check.ts). The seed fixes the schedule of
 * operations and faults; the last line is `ok …` or `violations N`, and the exit code says which.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { ensureLoadTestUsers } from '../load/load-test-users';
import { signAccessToken } from '../src/auth/token.service';
import { couponKeys } from '../src/issuance/reservation/coupon-keys';
import { check, FinalState, storyOf, Violation, ALLOWED } from './check';
import { recordsOf } from './records';
import { eventMismatches } from './event-audit';
import { Driver } from './driver';
import { FaultKind, faultKinds, makeSchedule, Schedule, Strategy } from './schedule';
import { System } from './system';

const SETTLE_WITHIN_MS = 150_000;

interface Options {
  seed: number;
  seconds: number;
  strategies: Strategy[];
  cluster: boolean;
  users: number;
  coupons: number;
  withoutFaults: FaultKind[];
  withoutOps: string[];
  keep: boolean;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string', default: String(Date.now() % 100000) },
      seconds: { type: 'string', default: '30' },
      strategy: { type: 'string', default: 'all' },
      'redis-cluster': { type: 'boolean', default: false },
      users: { type: 'string', default: '200' },
      coupons: { type: 'string', default: '4' },
      'without-faults': { type: 'string', default: '' },
      'without-ops': { type: 'string', default: '' },
      keep: { type: 'boolean', default: false },
    },
  });
  const all: Strategy[] = ['pessimistic', 'redis', 'queue'];
  const strategies = values.strategy === 'all' ? all : [values.strategy as Strategy];
  if (!strategies.every((s) => all.includes(s))) throw new Error(`--strategy must be one of ${all.join(', ')} or all`);
  const list = (v: string | undefined) =>
    v
      ? v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : [];
  return {
    seed: Number(values.seed),
    seconds: Number(values.seconds),
    strategies: values['redis-cluster'] ? strategies.filter((s) => s !== 'pessimistic') : strategies,
    cluster: values['redis-cluster']!,
    users: Number(values.users),
    coupons: Number(values.coupons),
    withoutFaults: list(values['without-faults']) as FaultKind[],
    withoutOps: list(values['without-ops']),
    keep: values.keep!,
  };
}

async function main(): Promise<void> {
  const o = options();
  let violations = 0;
  const summaries: string[] = [];
  for (const strategy of o.strategies) {
    const result = await runOne(o, strategy);
    violations += result.violations;
    summaries.push(result.summary);
  }
  for (const s of summaries) console.log(s);
  console.log(violations ? `violations ${violations}` : `ok seed ${o.seed}, ${o.seconds} s, ${o.strategies.join(' ')}${o.cluster ? ' (Redis Cluster)' : ''}`);
  process.exit(violations ? 1 : 0);
}

async function runOne(o: Options, strategy: Strategy): Promise<{ violations: number; summary: string }> {
  const apis = 2;
  const workers = strategy === 'queue' ? 2 : 0;
  const schedule = makeSchedule({
    seed: o.seed,
    strategy,
    seconds: o.seconds,
    users: o.users,
    coupons: o.coupons,
    cluster: o.cluster,
    apis,
    workers,
    withoutFaults: o.withoutFaults,
    withoutOps: o.withoutOps,
  });
  const runDir = mkdtempSync(join(tmpdir(), `chaos-${strategy}-`));
  chmodSync(runDir, 0o755); // as root, PostgreSQL runs as another account and must enter it
  process.env.TEST_SCRATCH_DIR = runDir; // the private servers' directories go there too
  const jwtSecret = randomBytes(32).toString('hex');
  const system = new System({ strategy, cluster: o.cluster, apis, workers, runDir, jwtSecret });
  console.log(
    `${strategy}: seed ${o.seed}, ${o.seconds} s, ${schedule.visits.length} visits, ${schedule.admin.length} admin steps, ${schedule.faults.length} faults (${faultKinds({ ...o, strategy, workers }).join(', ') || 'none'}); logs in ${runDir}`,
  );
  try {
    await system.start();
    const users = await ensureLoadTestUsers(system.databaseUrl, { secret: jwtSecret, expiresInSeconds: 3600 }, o.users, { prefix: 'chaos' });
    const admin = await makeAdmin(system.databaseUrl, jwtSecret);
    const driver = new Driver(system, schedule, users, admin);
    await driver.createCoupons();
    const started = Date.now();
    await driver.run();
    const seconds = (Date.now() - started) / 1000;
    await system.heal();
    const final = await finalState(system, strategy);
    const found = check(driver.history, final);
    const summary = report(strategy, schedule, driver, found, seconds);
    if (found.length) for (const line of await recordsOf(system.databaseUrl, found)) console.log(`  ${line}`);
    // beside the services' logs, what the checker saw, to read a violation's whole story
    if (found.length || o.keep) writeFileSync(join(runDir, 'history.json'), JSON.stringify({ faults: driver.history.faults, entries: driver.history.entries }));
    if (!o.keep && !found.length) rmSync(runDir, { recursive: true, force: true });
    return { violations: found.length, summary };
  } finally {
    await system.stop();
  }
}

async function makeAdmin(databaseUrl: string, secret: string): Promise<{ userId: number; token: string }> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: number }>(
      `INSERT INTO users (email, password_hash, name, role) VALUES ('chaos-admin@example.test', 'x', 'chaos admin', 'admin')
       ON CONFLICT (email) DO UPDATE SET role = 'admin' RETURNING id`,
    );
    return { userId: rows[0].id, token: signAccessToken(secret, { id: rows[0].id, role: 'admin' }, 3600) };
  } finally {
    await client.end();
  }
}

/** Waits until nothing is pending (queue, redis) or the time is up, then reads PostgreSQL and Redis. */
async function finalState(system: System, strategy: Strategy): Promise<FinalState> {
  const db = new Client({ connectionString: system.databaseUrl });
  await db.connect();
  const redis = system.redisClient();
  try {
    const couponIds = (await db.query<{ id: number }>('SELECT id FROM coupons')).rows.map((r) => r.id);
    // queue: accepted requests not yet written; redis: reservations whose write had an unknown
    // outcome, not yet decided from PostgreSQL (UnsettledWriteRepair); both: give-backs whose last
    // step was cut off, finished by GiveBackRepair once their tombstone's deadline has passed
    // and Redis' holders out of line with the rows: one with no row and nothing under way (a
    // reservation whose write never came) is released by HoldersRepair once the coupon has been
    // still for its grace; a row Redis lost in a failover is listed again by it at once
    const pendingOf = async (id: number) => {
      if (!redis || strategy === 'pessimistic') return 0;
      const k = couponKeys(id);
      const counts = await Promise.all([redis.hlen(k.pending), redis.hlen(k.returning)]).catch(() => [-1]);
      // a state Redis lost and nobody has asked for since is not installed: it is rebuilt from the
      // rows when first needed, so there are no holders to agree with yet
      const installed = (await redis.exists(k.meta).catch(() => 1)) === 1;
      const listed = await redis.scard(k.holders).catch(() => -1);
      const rows = (await db.query<{ n: number }>('SELECT issued_quantity AS n FROM coupons WHERE id = $1', [id])).rows[0]?.n ?? 0;
      return counts.reduce((a, b) => a + Math.abs(b), 0) + (installed && listed !== rows ? 1 : 0);
    };
    const deadline = Date.now() + SETTLE_WITHIN_MS;
    let stillPending: number[] = [];
    for (;;) {
      stillPending = [];
      for (const id of couponIds) if ((await pendingOf(id)) !== 0) stillPending.push(id);
      if (!stillPending.length || Date.now() > deadline) break;
      await sleep(250);
    }
    await sleep(500); // a give-back's last Redis step runs just after its 204
    const coupons = new Map(
      (await db.query<{ id: number; total_quantity: number; issued_quantity: number }>('SELECT id, total_quantity, issued_quantity FROM coupons')).rows.map(
        (r) => [r.id, { total: r.total_quantity, issued: r.issued_quantity }],
      ),
    );
    const rows: FinalState['rows'] = new Map();
    for (const r of (
      await db.query<{ coupon_id: number; user_id: number; code: string; redeemed_at: Date | null; order_ref: string | null }>(
        'SELECT coupon_id, user_id, code, redeemed_at, order_ref FROM coupon_issues',
      )
    ).rows) {
      if (!rows.has(r.coupon_id)) rows.set(r.coupon_id, new Map());
      rows.get(r.coupon_id)!.set(r.user_id, { code: r.code, redeemed: r.redeemed_at !== null, orderRef: r.order_ref });
    }
    const cancellations = new Map<string, number>();
    const cancelledCodes = new Set<string>();
    for (const r of (
      await db.query<{ coupon_id: number; user_id: number; reason: string; code: string }>(
        'SELECT coupon_id, user_id, reason, code FROM coupon_issue_cancellations',
      )
    ).rows) {
      const key = `${r.coupon_id}:${r.user_id}:${r.reason}`;
      cancellations.set(key, (cancellations.get(key) ?? 0) + 1);
      cancelledCodes.add(r.code);
    }
    const redisView: FinalState['redis'] = new Map();
    if (redis) {
      for (const id of coupons.keys()) {
        const k = couponKeys(id);
        const taken = await redis.hget(k.meta, 'taken');
        redisView.set(
          id,
          taken === null
            ? undefined
            : { taken: Number(taken), holders: new Set((await redis.smembers(k.holders)).map(Number)), pending: await redis.hlen(k.pending) },
        );
      }
    }
    return { coupons, rows, cancellations, cancelledCodes, redis: redisView, stillPending, events: await eventMismatches(db) };
  } finally {
    await db.end();
    redis?.disconnect();
  }
}

function report(strategy: Strategy, schedule: Schedule, driver: Driver, found: Violation[], seconds: number): string {
  const { entries, faults } = driver.history;
  const byStatus = new Map<number, number>();
  for (const e of entries) byStatus.set(e.status, (byStatus.get(e.status) ?? 0) + 1);
  const statuses = [...byStatus.entries()]
    .sort(([a], [b]) => a - b)
    .map(([s, n]) => `${s}:${n}`)
    .join(' ');
  const faultCounts = new Map<string, number>();
  for (const f of faults) faultCounts.set(f.kind, (faultCounts.get(f.kind) ?? 0) + 1);
  const faultList = [...faultCounts.entries()].map(([k, n]) => `${k}×${n}`).join(', ') || 'none';
  const failedFaults = faults.filter((f) => f.error);
  for (const f of failedFaults) console.log(`  fault ${f.kind} at ${f.t0} ms did not complete: ${f.error}`);
  const summary = `${strategy}: ${entries.length} operations in ${seconds.toFixed(1)} s (${(entries.length / seconds).toFixed(0)}/s), statuses ${statuses}; faults ${faultList}; ${found.length} violations`;
  if (found.length) {
    const rules = new Map<string, number>();
    for (const v of found) rules.set(v.rule, (rules.get(v.rule) ?? 0) + 1);
    console.log(`${strategy}: violations by rule: ${[...rules.entries()].map(([r, n]) => `${r} ${n}`).join(', ')}`);
    for (const v of found.slice(0, 5)) console.log(`  ${v.rule}: coupon ${v.couponId ?? '-'} user ${v.userId ?? '-'}: ${v.detail}`);
    const first = found[0];
    console.log(`${strategy}: the first violation's history (seed ${schedule.seed}):`);
    for (const line of storyOf(driver.history, first).slice(-40)) console.log('  ' + line);
    console.log(`${strategy}: what the contract allows besides the plain outcome, and the checks allow:`);
    for (const rule of Object.values(ALLOWED)) console.log(`  - ${rule}`);
  }
  return summary;
}

main().catch((error) => {
  console.error(`chaos failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(2);
});
