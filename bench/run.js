#!/usr/bin/env node
// `npm run bench`: every issuance strategy on the same workloads in one run, side by side.
// Each strategy gets the compiled service started afresh, on a fresh copy of one database (with
// the same load-test users) and an emptied private Redis; after each workload the invariants are
// checked in SQL. Writes bench/results/<date>.{json,md,svg} and prints the table.
//   npm run bench -- --strategies naive,pessimistic,redis --duration 10 --connections 64
//   npm run bench -- --redis-cluster   (then redis and queue once more, on a 6-node Redis Cluster of the bench's own)
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir, cpus, totalmem } = require('node:os');
const { join } = require('node:path');
const { parseArgs } = require('node:util');
const { randomBytes } = require('node:crypto');
const { arrive, burst, saturate } = require('./load');
const { renderMarkdown, renderSoakSvg, renderSvg, count } = require('./report');
const { renderFlameSvg, topFrames } = require('./flame');
const { http, processCpuMs, serviceNodeFlags, sql: pgSql, waitHealthy } = require('./service-process');

const ALL = ['naive', 'pessimistic', 'redis', 'queue'];
/** The strategies that keep stock in Redis. */
const usesRedis = (strategy) => strategy === 'redis' || strategy === 'queue';
const { values: opt } = parseArgs({
  options: {
    strategies: { type: 'string', default: ALL.join(',') },
    duration: { type: 'string', default: '10' }, // seconds of each saturation run
    connections: { type: 'string', default: '64' },
    users: { type: 'string', default: '150000' }, // distinct users for the sustained run
    'sellout-users': { type: 'string', default: '20000' },
    'sellout-total': { type: 'string', default: '1000' },
    'churn-holders': { type: 'string', default: '2000' }, // holders of the churn campaign, all of whom give back
    'churn-crowd': { type: 'string', default: '20000' }, // newcomers asking meanwhile
    campaigns: { type: 'string', default: '8' }, // campaigns saturated at once in the campaigns workload
    'flash-users': { type: 'string', default: '50000' }, // the flash crowd: distinct users arriving open-loop
    'flash-rate': { type: 'string', default: '10000' }, // arrivals per second
    'flash-total': { type: 'string', default: '1000' }, // coupons for them
    'redis-cluster': { type: 'boolean', default: false },
    'api-processes': { type: 'string', default: '1' }, // API_PROCESSES of the service (the queue's worker stays one process)
    soak: { type: 'string', default: '0' }, // minutes of rolling campaigns per strategy, RSS sampled every 10 s (0: none)
    profile: { type: 'string' }, // STRATEGY: only it, sustained and sell-out, under a CPU profile rendered as a flame graph
    'node-flags': { type: 'string' }, // Node's flags for the service's processes; default: those of npm run start:prod
    pg: { type: 'string', default: process.env.BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432' },
  },
});
const PROFILE = opt.profile;
const strategies = (PROFILE ?? opt.strategies)
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
for (const s of strategies) if (!ALL.includes(s)) throw new Error(`unknown strategy ${s} (known: ${ALL.join(', ')})`);
const DURATION = Number(opt.duration);
const CONNECTIONS = Number(opt.connections);
const USERS = Number(opt.users);
const SELLOUT_USERS = Number(opt['sellout-users']);
const SELLOUT_TOTAL = Number(opt['sellout-total']);
const CHURN_HOLDERS = Number(opt['churn-holders']);
const CHURN_CROWD = Number(opt['churn-crowd']);
const CAMPAIGNS = Number(opt.campaigns);
/** Node's flags for the service, as `npm run start:prod` passes them (its memory bounds), or --node-flags. */
const HEAP_FLAGS = serviceNodeFlags(opt['node-flags']);
const SOAK_MINUTES = Number(opt.soak);
const API_PROCESSES = Number(opt['api-processes']);
const FLASH_USERS = Number(opt['flash-users']);
const FLASH_RATE = Number(opt['flash-rate']);
const FLASH_TOTAL = Number(opt['flash-total']);
const CLUSTERED = ['redis', 'queue'].filter((s) => opt['redis-cluster'] && strategies.includes(s));
const root = join(__dirname, '..');
const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const t0 = Date.now();
const progress = (msg) => console.log(`[bench ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s] ${msg}`);
const children = [];
process.on('exit', () => {
  for (const c of children)
    try {
      c.kill('SIGKILL');
    } catch {}
});

/** One statement on a database of the bench's PostgreSQL server. */
const sql = (db, text, params) => pgSql(opt.pg, db, text, params);

// Ports the bench listens on are taken below Linux's default ephemeral range (32768-60999), where
// the load generator's own outgoing connections cannot already hold them.
const redisPort = 21000 + Math.floor(Math.random() * 5000);
const servicePort = () => 26000 + Math.floor(Math.random() * 6000);

// ---- one Redis of the bench's own: noeviction, append-only (fsync every second, as docker-compose runs it)
const redisDir = mkdtempSync(join(tmpdir(), 'bench-redis-'));
process.on('exit', () => rmSync(redisDir, { recursive: true, force: true })); // after its redis-server is killed (registered before)
children.push(
  spawn(
    'redis-server',
    [
      '--port',
      String(redisPort),
      '--bind',
      '127.0.0.1',
      '--dir',
      redisDir,
      '--save',
      '',
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--maxmemory-policy',
      'noeviction',
    ],
    { stdio: 'ignore' },
  ),
);
/**
 * Where a run's Redis is: the env that points the service at it, the ports of its masters (whose
 * work the bench reads per workload), and how to empty it between strategies.
 */
const singleRedis = {
  env: { REDIS_URL: `redis://127.0.0.1:${redisPort}`, REDIS_CLUSTER_NODES: '' },
  masters: () => [redisPort],
  flush: () => redisCli(redisPort, 'FLUSHALL'),
};

/** A 6-node Redis Cluster (3 masters, 3 replicas), made by the tests' own helper. */
async function startRedisCluster() {
  const scratch = mkdtempSync(join(tmpdir(), 'bench-cluster-'));
  process.env.TEST_SCRATCH_DIR = scratch; // the helper puts its nodes' directories there
  process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
  const { PrivateRedisCluster } = require('../servers/private-redis-cluster');
  const cluster = new PrivateRedisCluster();
  await cluster.start();
  const masters = () =>
    cluster.seeds
      .split(',')
      .map((seed) => Number(seed.split(':')[1]))
      .filter((port) => redisCli(port, 'ROLE').startsWith('master'));
  return {
    cluster,
    env: { REDIS_URL: '', REDIS_CLUSTER_NODES: cluster.seeds },
    masters,
    flush: () => masters().forEach((port) => redisCli(port, 'FLUSHALL')),
  };
}

function redisCli(port, ...args) {
  return execFileSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' });
}

/** Commands run, and microseconds spent running them, by each master so far; and its keys. */
function masterWork(redis) {
  return redis.masters().map((port) => {
    let calls = 0;
    let usec = 0;
    for (const [, c, u] of redisCli(port, 'INFO', 'commandstats').matchAll(/calls=(\d+),usec=(\d+)/g)) {
      calls += Number(c);
      usec += Number(u);
    }
    return { port, calls, usec, keys: Number(redisCli(port, 'DBSIZE').trim()) };
  });
}

/** What each master did between two masterWork() readings (the INFO and DBSIZE calls themselves are noise). */
const workBetween = (before, after) =>
  after.map((a) => {
    const b = before.find((x) => x.port === a.port) ?? { calls: 0, usec: 0 };
    return { port: a.port, commands: a.calls - b.calls, usec: a.usec - b.usec, keys: a.keys };
  });

const JWT_SECRET = randomBytes(32).toString('hex');
/** Where the profiled API writes its .cpuprofile when it exits (--profile). */
const profileDir = mkdtempSync(join(tmpdir(), 'bench-profile-'));
process.on('exit', () => rmSync(profileDir, { recursive: true, force: true }));
const ADMIN = { email: 'bench-admin@example.test', password: 'bench-admin-password' };

/** Migrated template database holding every load-test user; each strategy runs on a copy. */
async function prepareTemplate() {
  const template = `bench_tmpl_${process.pid}`;
  await sql('postgres', `DROP DATABASE IF EXISTS ${template}`);
  await sql('postgres', `CREATE DATABASE ${template}`);
  require('reflect-metadata');
  require('@nestjs/common').Logger.overrideLogger(['error']);
  const { DataSource } = require('typeorm');
  const { dataSourceOptions } = require('../dist/database/data-source-options');
  const { runMigrationsExclusively } = require('../dist/database/run-migrations');
  const ds = new DataSource(
    dataSourceOptions({
      url: `${opt.pg}/${template}`,
      embedded: false,
      poolSize: 2,
      acquireTimeoutMs: 10000,
      lockTimeoutMs: 10000,
      statementTimeoutMs: 120000,
      logging: false,
    }),
  );
  await ds.initialize();
  await runMigrationsExclusively(ds);
  await ds.destroy();
  // load/load-test-users.ts is load tooling, outside the service's build
  process.env.DISABLE_V8_COMPILE_CACHE = '1'; // ts-node would leave its compile cache in /tmp
  require('ts-node').register({ transpileOnly: true, project: join(__dirname, '..', 'tsconfig.json') });
  const { ensureLoadTestUsers } = require('../load/load-test-users');
  const need = Math.max(USERS, SELLOUT_USERS, CHURN_HOLDERS + CHURN_CROWD, FLASH_USERS, 300);
  const users = await ensureLoadTestUsers(`${opt.pg}/${template}`, { secret: JWT_SECRET, expiresInSeconds: 6 * 3600 }, need);
  return { template, tokens: users.map((u) => u.token), tokenOf: new Map(users.map((u) => [u.userId, u.token])) };
}

const envOf = new Map();
const startEnvOf = (child) => envOf.get(child);

/**
 * The service as it is deployed: for `queue`, an API that only accepts (RUN_WORKER=false) and
 * one worker process beside it; for the others, the API alone. Returns [api, ...others].
 */
function startService(strategy, db, port, redis) {
  const script = strategy === 'naive' ? join(__dirname, 'naive-server.js') : join(root, 'dist', 'main.js');
  const env = {
    ...process.env,
    NODE_ENV: 'production',
    PORT: String(port),
    DATABASE_URL: `${opt.pg}/${db}`,
    ...redis.env,
    JWT_SECRET_KEY: JWT_SECRET,
    JWT_EXPIRES_IN: '6h',
    ISSUANCE_STRATEGY: strategy === 'naive' ? 'pessimistic' : strategy,
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    LOG_LEVEL: 'error',
    RUN_WORKER: strategy === 'queue' ? 'false' : 'true',
    API_PROCESSES: strategy === 'naive' ? '1' : String(API_PROCESSES),
  };
  const start = (file) => {
    const profiled = PROFILE && file.endsWith('main.js') ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
    const child = spawn(process.execPath, [...HEAP_FLAGS, ...profiled, file], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    envOf.set(child, env);
    children.push(child);
    return child;
  };
  return strategy === 'queue' ? [start(script), start(join(root, 'dist', 'worker.js'))] : [start(script)];
}

/** The processes whose parent is `pid` (with API_PROCESSES > 1, the API processes under the primary). */
function childrenOf(pid) {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((p) => ({ pid: Number(p) }));
  } catch {
    return [];
  }
}

/** CPU time (user + system) the processes and their children have used so far, in ms, from /proc/<pid>/stat. */
function cpuMs(processes) {
  let ms = 0;
  for (const p of processes.flatMap(withChildren)) {
    try {
      ms += processCpuMs(p.pid);
    } catch {
      // an exited process adds nothing
    }
  }
  return ms;
}

/**
 * A memory figure of a process from /proc/<pid>/status, in MiB: `VmRSS` (resident now) or
 * `VmHWM` (its high-water mark); null once it has exited.
 */
function statusMiB(pid, field) {
  try {
    return Math.round(Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024);
  } catch {
    return null;
  }
}

/** A process and those under it (with API_PROCESSES > 1, the primary and its API processes). */
const withChildren = (p) => [p, ...childrenOf(p.pid)];

/** The largest figure over the API processes (the primary only hands out connections). */
const apiMiB = (api, field) => Math.max(...withChildren(api).map((p) => statusMiB(p.pid, field) ?? 0));

/**
 * The soak: campaign after campaign for `minutes` (each a coupon of SELLOUT_TOTAL saturated for
 * 20 s by the crowd, in turn: issues, then the sold-out crowd), the service's RSS read every 10 s.
 * Flat means the last minute's mean is within 10% of the second minute's (the first is warm-up).
 */
async function soak({ minutes, processes, coupon, issueUrl, tokens }) {
  const started = Date.now();
  const samples = [];
  const sample = () =>
    samples.push({
      s: Math.round((Date.now() - started) / 1000),
      apiMiB: apiMiB(processes[0], 'VmRSS'),
      workerMiB: processes[1] ? statusMiB(processes[1].pid, 'VmRSS') : null,
    });
  sample();
  const timer = setInterval(sample, 10_000);
  let requests = 0;
  let offset = 0;
  try {
    while (Date.now() - started < minutes * 60_000) {
      const id = await coupon(SELLOUT_TOTAL);
      const crowd = tokens.slice(offset, offset + 100_000);
      offset = (offset + 20_000) % Math.max(1, tokens.length - 100_000);
      const window = Math.min(20, Math.max(1, Math.round((minutes * 60_000 - (Date.now() - started)) / 1000)));
      requests += (await saturate({ url: issueUrl(id), tokens: crowd, connections: CONNECTIONS, durationS: window })).requests;
    }
  } finally {
    clearInterval(timer);
  }
  sample();
  const mean = (from, to) => {
    const xs = samples.filter((x) => x.s >= from && x.s < to).map((x) => x.apiMiB);
    return xs.length ? Math.round(xs.reduce((a, b) => a + b, 0) / xs.length) : null;
  };
  const end = samples[samples.length - 1].s;
  const secondMinuteMiB = mean(60, 120);
  const lastMinuteMiB = mean(end - 60, end + 1);
  const drift = secondMinuteMiB && lastMinuteMiB ? +(((lastMinuteMiB - secondMinuteMiB) / secondMinuteMiB) * 100).toFixed(1) : null;
  const result = { minutes, requests, samples, maxApiMiB: Math.max(...samples.map((x) => x.apiMiB)), secondMinuteMiB, lastMinuteMiB, driftPercent: drift };
  progress(`soak: ${minutes} min, ${requests} requests; API RSS max ${result.maxApiMiB} MiB, last minute vs second ${drift}%`);
  return result;
}

/** Waits until nothing is pending (queued strategies), then reads the coupon's facts in SQL. */
async function settleAndCheck(base, admin, db, couponId, startedAt) {
  let drainedAt = Date.now();
  for (let i = 0; i < 2400; i++) {
    const stats = (await http(base, 'GET', `/coupons/${couponId}/stats`, admin)).body;
    if (!stats.pending) {
      drainedAt = Date.now();
      break;
    }
    await sleep(50);
  }
  // a counter folded in asynchronously may trail its rows by up to a second
  let facts;
  for (let i = 0; i < 40; i++) {
    [facts] = await sql(
      db,
      `SELECT c.total_quantity AS total, c.issued_quantity AS counter,
        (SELECT count(*)::int FROM coupon_issues i WHERE i.coupon_id = c.id) AS rows,
        (SELECT count(*)::int FROM (SELECT user_id FROM coupon_issues i WHERE i.coupon_id = c.id GROUP BY user_id HAVING count(*) > 1) d) AS dups
        FROM coupons c WHERE c.id = $1`,
      [couponId],
    );
    if (facts.counter === facts.rows) break;
    await sleep(50);
  }
  return {
    issued: facts.rows,
    oversell: Math.max(0, facts.rows - facts.total),
    duplicates: facts.dups,
    counterMismatch: facts.counter - facts.rows,
    drainMs: drainedAt - startedAt,
  };
}

/**
 * Queue drain: with the worker stopped, accept a backlog, then start one worker and time how fast
 * it writes the backlog into PostgreSQL (rows/s), from its start-up to nothing pending.
 */
/** The ceiling route (GET /auth/session: the HTTP stack, authentication, the user lookup) saturated for half a run's duration. */
const saturateCeiling = (base, tokens) =>
  saturate({ url: `${base}/auth/session`, method: 'GET', tokens, connections: CONNECTIONS, durationS: Math.max(3, DURATION / 2) });

async function measureDrain(label, helpers, base, admin, db, coupon, issueUrl, tokens) {
  const worker = helpers[0];
  worker.kill('SIGTERM');
  await new Promise((r) => (worker.exitCode !== null ? r() : worker.once('exit', r)));
  const id = await coupon(100_000_000);
  const backlog = Math.min(tokens.length, 50_000);
  const accepted = await saturate({ url: issueUrl(id), tokens: tokens.slice(0, backlog), connections: CONNECTIONS, amount: backlog });
  // the accept path alone (no worker writing on the same cores), against a ceiling read right after
  const ceiling = await saturateCeiling(base, tokens);
  const started = Date.now();
  helpers[0] = spawn(process.execPath, [...HEAP_FLAGS, join(root, 'dist', 'worker.js')], { env: startEnvOf(worker), stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(helpers[0]);
  const facts = await settleAndCheck(base, admin, db, id, started);
  const drain = {
    accepted: accepted.statuses[202] ?? 0,
    acceptsPerSecond: accepted.throughput,
    ceilingPerSecond: ceiling.throughput,
    rows: facts.issued,
    ms: facts.drainMs,
    rowsPerSecond: Math.round((facts.issued / facts.drainMs) * 1000),
    oversell: facts.oversell,
    duplicates: facts.duplicates,
    counterMismatch: facts.counterMismatch,
  };
  progress(
    `${label.padEnd(15)} drain          ${drain.rows} rows in ${drain.ms} ms = ${drain.rowsPerSecond} rows/s (worker start-up included)  counter-gap ${drain.counterMismatch}; ` +
      `accepted before it with no worker running: ${drain.acceptsPerSecond} req/s, ceiling right after ${drain.ceilingPerSecond} req/s`,
  );
  return drain;
}

/**
 * Churn: a sold-out campaign whose holders all give back while a crowd of newcomers keeps asking,
 * both at full speed; then every holder redeems their coupon at once. Give-backs/s and
 * redemptions/s, with the invariants after (and, where Redis keeps stock, reconcile changes nothing).
 */
async function measureChurn({ strategy, label, base, admin, db, coupon, issueUrl, tokens, tokenOf }) {
  const id = await coupon(CHURN_HOLDERS);
  const holders = tokens.slice(0, CHURN_HOLDERS);
  const crowd = tokens.slice(CHURN_HOLDERS, CHURN_HOLDERS + CHURN_CROWD);
  await saturate({ url: issueUrl(id), tokens: holders, connections: CONNECTIONS, amount: holders.length });
  await settleAndCheck(base, admin, db, id, Date.now());
  await sleep(1200); // the holders' per-user rate-limit window passes before they give back

  const started = Date.now();
  const givingBack = Math.max(1, Math.round(CONNECTIONS / 4));
  const [backs, asks] = await Promise.all([
    saturate({ url: issueUrl(id), method: 'DELETE', tokens: holders, connections: givingBack, amount: holders.length }),
    saturate({ url: issueUrl(id), tokens: crowd, connections: CONNECTIONS - givingBack, amount: crowd.length }),
  ]);
  const facts = await settleAndCheck(base, admin, db, id, started);

  const held = await sql(db, 'SELECT user_id, code FROM coupon_issues WHERE coupon_id = $1', [id]);
  const redeem = await saturate({
    url: `${base}/issues/redeem`,
    tokens: held.map((h) => tokenOf.get(h.user_id)),
    bodies: held.map((h) => JSON.stringify({ code: h.code })),
    connections: CONNECTIONS,
    amount: held.length,
  });
  const [after] = await sql(
    db,
    `SELECT (SELECT count(*)::int FROM coupon_issues WHERE coupon_id = $1 AND redeemed_at IS NOT NULL) AS redeemed,
            (SELECT count(*)::int FROM coupon_issue_cancellations WHERE coupon_id = $1) AS cancelled`,
    [id],
  );
  let redisAgrees = null;
  if (usesRedis(strategy)) {
    const before = (await http(base, 'GET', `/coupons/${id}/stats`, admin)).body;
    const rebuilt = (await http(base, 'POST', `/coupons/${id}/reconcile`, admin)).body;
    redisAgrees = before.redisReserved === rebuilt.redisReserved && rebuilt.redisReserved === facts.issued;
  }
  const perSecond = (n, ms) => Math.round((n / ms) * 1000);
  const churn = {
    holders: holders.length,
    crowd: crowd.length,
    givenBack: backs.statuses[204] ?? 0,
    giveBacksPerSecond: perSecond(backs.statuses[204] ?? 0, backs.wallMs),
    giveBackP99: backs.p99,
    asked: asks.requests,
    asksPerSecond: asks.throughput,
    reissued: facts.issued,
    redeemed: redeem.statuses[200] ?? 0,
    redemptionsPerSecond: perSecond(redeem.statuses[200] ?? 0, redeem.wallMs),
    redeemP99: redeem.p99,
    redeemedRows: after.redeemed,
    cancelledRows: after.cancelled,
    errors: [backs, asks, redeem].reduce((n, w) => n + (w.errors ?? 0) + count(w.statuses, (s) => s === 0 || s >= 500), 0),
    oversell: facts.oversell,
    duplicates: facts.duplicates,
    counterMismatch: facts.counterMismatch,
    redisAgrees,
  };
  progress(
    `${label.padEnd(15)} churn          ${churn.giveBacksPerSecond} give-backs/s while ${churn.asksPerSecond} asks/s; ${churn.reissued} of ${churn.holders} units re-issued; ` +
      `${churn.redemptionsPerSecond} redemptions/s; oversell ${churn.oversell} dups ${churn.duplicates} counter-gap ${churn.counterMismatch} redis agrees ${churn.redisAgrees}`,
  );
  return churn;
}

/** Each campaign's facts after settling, summed (drain: the slowest). */
async function settleAndCheckAll(base, admin, db, ids, startedAt) {
  const all = [];
  for (const id of ids) all.push(await settleAndCheck(base, admin, db, id, startedAt));
  const sum = (key) => all.reduce((n, f) => n + f[key], 0);
  return {
    issued: sum('issued'),
    oversell: sum('oversell'),
    duplicates: sum('duplicates'),
    counterMismatch: sum('counterMismatch'),
    drainMs: Math.max(...all.map((f) => f.drainMs)),
  };
}

async function runStrategy(strategy, template, tokens, tokenOf, redis = singleRedis, label = strategy) {
  const db = `bench_${strategy}_${process.pid}`;
  await sql('postgres', `DROP DATABASE IF EXISTS ${db}`);
  await sql('postgres', `CREATE DATABASE ${db} TEMPLATE ${template}`);
  redis.flush();
  const port = servicePort();
  const base = `http://127.0.0.1:${port}`;
  const [child, ...helpers] = startService(strategy, db, port, redis);
  try {
    await waitHealthy(base);
    const admin = (await http(base, 'POST', '/auth/login', null, ADMIN)).body.accessToken;
    const coupon = async (total) => (await http(base, 'POST', '/coupons', admin, { name: `bench ${strategy}`, totalQuantity: total })).body.id;
    const issueUrl = (id) => `${base}/coupons/${id}/issue`;
    const result = { strategy: label, workloads: {} };
    /** Runs one workload, then checks its coupons (none, one id, or several) in SQL; with Redis, what each master did. */
    const record = async (name, ids, run) => {
      const startedAt = Date.now();
      const before = usesRedis(strategy) ? masterWork(redis) : undefined;
      const [cpuBefore, apiCpuBefore] = [cpuMs([child, ...helpers]), cpuMs([child])];
      const load = await run();
      const facts = ids ? await settleAndCheckAll(base, admin, db, [ids].flat(), startedAt) : {};
      // the service's own processes (API, and the worker that writes what it accepted), per answer
      const cpuMsPerRequest = +((cpuMs([child, ...helpers]) - cpuBefore) / Math.max(1, load.requests)).toFixed(3);
      // with a worker beside it (queue), the API's own share: what the accept path costs
      const apiCpuMsPerRequest = helpers.length ? +((cpuMs([child]) - apiCpuBefore) / Math.max(1, load.requests)).toFixed(3) : undefined;
      const masters = before ? workBetween(before, masterWork(redis)) : undefined;
      result.workloads[name] = {
        ...load,
        ...facts,
        cpuMsPerRequest,
        ...(apiCpuMsPerRequest !== undefined ? { apiCpuMsPerRequest } : {}),
        ...(masters ? { masters } : {}),
      };
      const w = result.workloads[name];
      progress(
        `${label.padEnd(15)} ${name.padEnd(14)} ${String(w.throughput).padStart(6)} req/s  p50 ${w.p50} p95 ${w.p95} p99 ${w.p99} ms  cpu ${w.cpuMsPerRequest} ms/req${w.apiCpuMsPerRequest !== undefined ? ` (API ${w.apiCpuMsPerRequest})` : ''}  ${JSON.stringify(w.statuses)}` +
          (ids ? `  issued ${w.issued} oversell ${w.oversell} dups ${w.duplicates} counter-gap ${w.counterMismatch}` : '') +
          (masters ? `  per master: ${masters.map((m) => `${m.commands} cmds/${m.keys} keys`).join(', ')}` : ''),
      );
    };
    // warm-up: JIT and connection pools, on a coupon of its own
    const warm = await coupon(1_000_000);
    await saturate({ url: issueUrl(warm), tokens: tokens.slice(-5000), connections: CONNECTIONS, amount: 3000 });

    let id = await coupon(100);
    await record('burst-1s', id, () => burst({ url: issueUrl(id), tokens: tokens.slice(0, 300), spreadMs: 1000 }));
    await sleep(1200); // let the per-user rate-limit window pass before the same users ask again
    id = await coupon(100);
    await record('burst-instant', id, () => burst({ url: issueUrl(id), tokens: tokens.slice(0, 300), spreadMs: 0 }));
    id = await coupon(100_000_000);
    await record('sustained', id, () => saturate({ url: issueUrl(id), tokens: tokens.slice(0, USERS), connections: CONNECTIONS, durationS: DURATION }));
    // the ceiling right between the two runs it is the yardstick of (sustained, sell-out): this
    // machine's speed drifts by tens of percent within minutes, so a ceiling read a minute later
    // would measure the drift as much as the service
    if (!PROFILE) await record('ceiling', null, () => saturateCeiling(base, tokens));
    id = await coupon(SELLOUT_TOTAL);
    await record('sellout', id, () => saturate({ url: issueUrl(id), tokens: tokens.slice(0, SELLOUT_USERS), connections: CONNECTIONS, amount: SELLOUT_USERS }));
    if (PROFILE) return result; // the profile covers the warm-up, sustained and sell-out only
    // the flash crowd: distinct users arriving at a fixed rate on a small campaign, then the same
    // schedule on the ceiling route
    if (strategy !== 'naive') {
      const flashTokens = tokens.slice(0, FLASH_USERS);
      id = await coupon(FLASH_TOTAL);
      await record('flash-crowd', id, () => arrive({ url: issueUrl(id), tokens: flashTokens, ratePerSecond: FLASH_RATE }));
      await record('flash-ceiling', null, () => arrive({ url: `${base}/auth/session`, method: 'GET', tokens: flashTokens, ratePerSecond: FLASH_RATE }));
    }
    // several campaigns at once, requests in turn: on a cluster, their keys and work spread over the masters
    if (strategy !== 'naive') {
      const ids = [];
      for (let i = 0; i < CAMPAIGNS; i++) ids.push(await coupon(100_000_000));
      await record('campaigns', ids, () =>
        saturate({ url: base, paths: ids.map((i) => `/coupons/${i}/issue`), tokens: tokens.slice(0, USERS), connections: CONNECTIONS, durationS: DURATION }),
      );
    }
    await sleep(1200);
    // the original design has no give-back or redemption route
    if (strategy !== 'naive') result.churn = await measureChurn({ strategy, label, base, admin, db, coupon, issueUrl, tokens, tokenOf });
    if (strategy === 'queue') result.drain = await measureDrain(label, helpers, base, admin, db, coupon, issueUrl, tokens);
    if (SOAK_MINUTES > 0 && strategy !== 'naive') result.soak = await soak({ minutes: SOAK_MINUTES, processes: [child, ...helpers], coupon, issueUrl, tokens });
    result.peakRssMiB = apiMiB(child, 'VmHWM');
    if (helpers.length) result.workerPeakRssMiB = statusMiB(helpers[0].pid, 'VmHWM');
    return result;
  } finally {
    for (const c of [child, ...helpers]) {
      c.kill('SIGTERM');
      await new Promise((r) => (c.exitCode !== null ? r() : c.once('exit', r)));
    }
    await sql('postgres', `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(() => undefined);
  }
}

async function main() {
  await sleep(300);
  progress(`preparing ${Math.max(USERS, SELLOUT_USERS)} users and tokens`);
  const { template, tokens, tokenOf } = await prepareTemplate();
  const results = [];
  try {
    for (const strategy of strategies) {
      progress(`${strategy}: starting the service`);
      results.push(await runStrategy(strategy, template, tokens, tokenOf));
    }
    if (CLUSTERED.length) {
      progress('starting a Redis Cluster of 3 masters and 3 replicas');
      const cluster = await startRedisCluster();
      try {
        for (const strategy of CLUSTERED) {
          progress(`${strategy} on the cluster: starting the service`);
          results.push(await runStrategy(strategy, template, tokens, tokenOf, cluster, `${strategy}@cluster`));
        }
      } finally {
        await cluster.cluster.stop();
      }
    }
  } finally {
    await sql('postgres', `DROP DATABASE IF EXISTS ${template} WITH (FORCE)`).catch(() => undefined);
  }
  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
  const run = {
    date: new Date().toISOString(),
    machine,
    options: {
      duration: DURATION,
      connections: CONNECTIONS,
      users: USERS,
      selloutUsers: SELLOUT_USERS,
      selloutTotal: SELLOUT_TOTAL,
      churnHolders: CHURN_HOLDERS,
      churnCrowd: CHURN_CROWD,
      campaigns: CAMPAIGNS,
      flashUsers: FLASH_USERS,
      flashRate: FLASH_RATE,
      flashTotal: FLASH_TOTAL,
      soakMinutes: SOAK_MINUTES,
      apiProcesses: API_PROCESSES,
    },
    results,
  };
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  if (PROFILE) {
    const [file] = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'));
    const profile = JSON.parse(readFileSync(join(profileDir, file), 'utf8'));
    const title = `${PROFILE}: where the API's CPU went under the sustained and sell-out workloads (${run.date})`;
    writeFileSync(join(__dirname, 'results', `flame-${PROFILE}.svg`), renderFlameSvg(profile, title));
    const top = ['| own samples | frame |', '| ---: | --- |', ...topFrames(profile)].join('\n');
    writeFileSync(join(__dirname, 'results', `flame-${PROFILE}.md`), `${title}\n\n${top}\n`);
    console.log(`\n${top}\n\nflame graph: bench/results/flame-${PROFILE}.svg`);
    return; // a profiled run's figures are slowed by the profiler: not a bench result
  }
  const base = join(__dirname, 'results', stamp);
  writeFileSync(`${base}.json`, JSON.stringify(run, null, 2));
  const md = renderMarkdown(run);
  writeFileSync(`${base}.md`, md);
  writeFileSync(`${base}.svg`, renderSvg(run));
  writeFileSync(join(__dirname, 'results', 'latest.md'), md);
  writeFileSync(join(__dirname, 'results', 'latest.svg'), renderSvg(run));
  if (run.results.some((r) => r.soak)) {
    writeFileSync(`${base}-soak.svg`, renderSoakSvg(run));
    writeFileSync(join(__dirname, 'results', 'soak.svg'), renderSoakSvg(run));
  }
  console.log(`\n${md}\nwritten: ${base}.json, .md, .svg (and results/latest.md, latest.svg)`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`bench failed: ${error.stack ?? error}`);
    process.exit(1);
  },
);
