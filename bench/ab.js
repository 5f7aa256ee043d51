// `node bench/ab.js --a DIR [--b DIR] [--route issue|session] [--strategy NAME]`: one route of two
// builds of the service, A and B, in alternation on one database, in one run: round after round,
// each build started afresh and saturated for the same time, its requests per second and the CPU
// (user + system) its process spent per answer read. For a change whose cost is a few percent,
// alternation beats two runs an hour apart on a machine whose throughput drifts by more than that.
// Each DIR is a project root with `dist/` built (`npm run build`); B defaults to this one. With
// --a and --b the same DIR, it measures the machine's own noise.
//   --route issue    POST /coupons/:id/issue, every request a different user, on a coupon that
//                    cannot sell out (the bench's `sustained`), under --strategy (default redis)
//   --route session  GET /auth/session: the HTTP stack, authentication and the user lookup (the ceiling)
// Beside the service's own CPU, each round prints what Redis and PostgreSQL spent per answer: on
// this machine they share its cores with the service, so a cost moved into them is still a cost.
//   --commands       each Redis command's calls and time per answer (inside scripts too)
//   --worker-apart   queue: the API with RUN_WORKER=false beside a worker process, each one's CPU apart
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const { mkdtempSync, readdirSync, readFileSync, rmSync } = require('node:fs');
const { randomBytes } = require('node:crypto');
const { tmpdir } = require('node:os');
const { join, resolve } = require('node:path');
const { parseArgs } = require('node:util');
const { saturate } = require('./load');
const { http, processCpuMs, serviceNodeFlags, sql: pgSql, waitHealthy } = require('./service-process');

const { values: opt } = parseArgs({
  options: {
    a: { type: 'string' },
    b: { type: 'string', default: join(__dirname, '..') },
    route: { type: 'string', default: 'issue' },
    strategy: { type: 'string', default: 'redis' },
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '64' },
    users: { type: 'string', default: '100000' },
    commands: { type: 'boolean', default: false }, // print each Redis command's calls and time per request
    'worker-apart': { type: 'boolean', default: false }, // queue: the worker in a process of its own, its CPU counted apart
    'node-flags': { type: 'string' }, // Node's flags for the service (e.g. add --cpu-prof); default: those of npm run start:prod
    pg: { type: 'string', default: process.env.BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432' },
  },
});
if (!opt.a) throw new Error('--a DIR: the project root of the build to compare against (with dist/ built)');
if (!['issue', 'session'].includes(opt.route)) throw new Error('--route issue|session');
const builds = { A: resolve(opt.a), B: resolve(opt.b) };
const db = `bench_ab_${process.pid}`;
const secret = randomBytes(32).toString('hex');
const port = 26000 + Math.floor(Math.random() * 6000);
const redisPort = 21000 + Math.floor(Math.random() * 5000);
const base = `http://127.0.0.1:${port}`;
const admin = { email: 'ab-admin@example.test', password: 'ab-admin-password' };
const usesRedis = opt.strategy === 'redis' || opt.strategy === 'queue';
/** --worker-apart (queue): the API with RUN_WORKER=false beside a worker process, as deployed. */
const apart = opt['worker-apart'] && opt.strategy === 'queue';
/** Node's flags as `npm run start:prod` passes them (its memory bounds), or --node-flags. */
const nodeFlags = serviceNodeFlags(opt['node-flags']);

/** One statement on a database of the PostgreSQL server (--pg). */
const sql = (database, text) => pgSql(opt.pg, database, text);

/**
 * Each build has a database of its own: B's is a copy of A's, made once A has migrated it and the
 * load-test users are in it (same users, same tokens), before B first starts. B's migrations then
 * run on its copy alone, so a migration one build does not know (a column dropped) never breaks
 * the other. A is expected to be the older build (a base to compare against).
 */
const dbOf = { A: `${db}_a`, B: `${db}_b` };

function start(root, database) {
  const env = {
    ...process.env,
    NODE_ENV: 'production',
    PORT: String(port),
    DATABASE_URL: `${opt.pg}/${database}`,
    JWT_SECRET_KEY: secret,
    LOG_LEVEL: 'error',
    ADMIN_EMAIL: admin.email,
    ADMIN_PASSWORD: admin.password,
    ISSUANCE_STRATEGY: opt.strategy,
    REDIS_URL: usesRedis ? `redis://127.0.0.1:${redisPort}` : '',
    REDIS_CLUSTER_NODES: '',
    API_PROCESSES: '1',
  };
  const run = (entry, extra = {}) =>
    spawn(process.execPath, [...nodeFlags, join(root, 'dist', entry)], { env: { ...env, ...extra }, stdio: ['ignore', 'ignore', 'inherit'] });
  if (!apart) return { api: run('main.js') };
  return { api: run('main.js', { RUN_WORKER: 'false' }), worker: run('worker.js') };
}

const stop = (child) => new Promise((done) => (child.exitCode !== null ? done() : (child.once('exit', done), child.kill('SIGTERM'))));

/** Commands Redis has run so far, by name (INFO commandstats: those inside scripts count too). */
function redisCommandCounts() {
  if (!usesRedis) return {};
  const stats = execFileSync('redis-cli', ['-p', String(redisPort), 'INFO', 'commandstats'], { encoding: 'utf8' });
  return Object.fromEntries(
    [...stats.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)].map(([, name, calls, usec]) => [name, { calls: Number(calls), usec: Number(usec) }]),
  );
}

/** Per request, each command's calls between two counts (--commands). */
function commandsPerRequest(before, after, requests) {
  const per = (name, field) => (after[name][field] - (before[name]?.[field] ?? 0)) / Math.max(1, requests);
  return Object.keys(after)
    .filter((name) => per(name, 'calls') >= 0.01)
    .sort((x, y) => per(y, 'usec') - per(x, 'usec'))
    .map((name) => `${name} ${per(name, 'calls').toFixed(2)} (${per(name, 'usec').toFixed(1)} µs)`)
    .join(', ');
}

/** CPU Redis has spent so far, ms (INFO cpu: user + system of its main thread and children). */
function redisCpuMs() {
  if (!usesRedis) return 0;
  const cpu = execFileSync('redis-cli', ['-p', String(redisPort), 'INFO', 'cpu'], { encoding: 'utf8' });
  const seconds = (name) => Number(cpu.match(new RegExp(`^${name}:([\\d.]+)`, 'm'))[1]);
  return (seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1000;
}

/**
 * CPU PostgreSQL's processes on this machine have spent so far, ms (each `postgres` process's own;
 * the service's connections are pooled, so its backends live through a measurement).
 */
function postgresCpuMs() {
  let ms = 0;
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres') ms += processCpuMs(pid);
    } catch {
      // the process ended meanwhile
    }
  }
  return ms;
}

/** One saturation run of the route on a started build. */
async function measure({ api: child, worker }, tokens) {
  let url = `${base}/auth/session`;
  let method = 'GET';
  if (opt.route === 'issue') {
    const { accessToken } = (await http(base, 'POST', '/auth/login', undefined, admin)).body;
    const { id } = (await http(base, 'POST', '/coupons', accessToken, { name: 'ab', totalQuantity: 100_000_000 })).body;
    url = `${base}/coupons/${id}/issue`;
    method = 'POST';
  }
  await saturate({ url, method, tokens: tokens.slice(-5000), connections: Number(opt.connections), amount: 3000 }); // warm-up
  const [before, commandsBefore, redisCpuBefore, postgresBefore] = [processCpuMs(child.pid), redisCommandCounts(), redisCpuMs(), postgresCpuMs()];
  const workerBefore = worker ? processCpuMs(worker.pid) : 0;
  const load = await saturate({ url, method, tokens, connections: Number(opt.connections), durationS: Number(opt.duration) });
  const perRequest = (n) => n / Math.max(1, load.requests);
  // (with queue, the commands of requests accepted but not yet written are partly not counted yet)
  const commandsAfter = redisCommandCounts();
  const total = (counts) => Object.values(counts).reduce((sum, { calls }) => sum + calls, 0);
  if (opt.commands)
    console.log(`  Redis commands per request (and their time, inside scripts too): ${commandsPerRequest(commandsBefore, commandsAfter, load.requests)}`);
  return {
    ...load,
    cpuMsPerRequest: perRequest(processCpuMs(child.pid) - before),
    workerCpuMsPerRequest: worker ? perRequest(processCpuMs(worker.pid) - workerBefore) : undefined,
    redisPerRequest: perRequest(total(commandsAfter) - total(commandsBefore)),
    redisCpuMsPerRequest: perRequest(redisCpuMs() - redisCpuBefore),
    postgresCpuMsPerRequest: perRequest(postgresCpuMs() - postgresBefore),
  };
}

async function main() {
  const redisDir = mkdtempSync(join(tmpdir(), 'ab-redis-'));
  const redis = usesRedis
    ? spawn(
        'redis-server',
        ['--port', String(redisPort), '--bind', '127.0.0.1', '--dir', redisDir, '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'],
        {
          stdio: 'ignore',
        },
      )
    : undefined;
  await sql('postgres', `CREATE DATABASE ${dbOf.A}`);
  const runs = { A: [], B: [] };
  try {
    let tokens;
    for (let round = 1; round <= Number(opt.rounds); round++) {
      for (const name of ['A', 'B']) {
        if (usesRedis) execFileSync('redis-cli', ['-p', String(redisPort), 'FLUSHALL']);
        if (name === 'B' && round === 1) await sql('postgres', `CREATE DATABASE ${dbOf.B} TEMPLATE ${dbOf.A}`);
        if (tokens) await sql(dbOf[name], 'TRUNCATE coupon_issues, coupon_issue_cancellations, coupons CASCADE');
        const processes = start(builds[name], dbOf[name]);
        try {
          await waitHealthy(base); // the first start migrates the database
          if (!tokens) {
            process.env.DISABLE_V8_COMPILE_CACHE = '1'; // ts-node would leave its compile cache in /tmp
            require('ts-node').register({ transpileOnly: true, project: join(__dirname, '..', 'tsconfig.json') });
            const users = await require('../load/load-test-users').ensureLoadTestUsers(
              `${opt.pg}/${dbOf.A}`,
              { secret, expiresInSeconds: 3600 },
              Number(opt.users),
            );
            tokens = users.map((u) => u.token);
          }
          const load = await measure(processes, tokens);
          runs[name].push(load);
          const bad = load.requests - (load.statuses[opt.route === 'issue' ? (opt.strategy === 'queue' ? 202 : 201) : 200] ?? 0);
          console.log(
            `round ${round} ${name}: ${load.throughput} req/s, ${load.cpuMsPerRequest.toFixed(3)} CPU ms/req` +
              (apart ? ` (API) + ${load.workerCpuMsPerRequest.toFixed(3)} (worker)` : '') +
              (usesRedis ? `, ${load.redisPerRequest.toFixed(1)} Redis commands/req, ${load.redisCpuMsPerRequest.toFixed(3)} Redis CPU ms/req` : '') +
              `, ${load.postgresCpuMsPerRequest.toFixed(3)} PostgreSQL CPU ms/req (p99 ${load.p99} ms, other answers: ${bad})`,
          );
        } finally {
          await Promise.all(Object.values(processes).map(stop));
        }
      }
    }
  } finally {
    for (const database of Object.values(dbOf)) await sql('postgres', `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    redis?.kill('SIGKILL');
    rmSync(redisDir, { recursive: true, force: true });
  }
  const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  const figure = (name, key) => median(runs[name].map((r) => r[key]));
  const [a, b] = [figure('A', 'throughput'), figure('B', 'throughput')];
  const [ca, cb] = [figure('A', 'cpuMsPerRequest'), figure('B', 'cpuMsPerRequest')];
  console.log(`${opt.route} (${opt.strategy}), medians: A ${Math.round(a)} req/s ${ca.toFixed(3)} CPU ms/req (${builds.A})`);
  console.log(`${' '.repeat(opt.route.length + opt.strategy.length + 12)}B ${Math.round(b)} req/s ${cb.toFixed(3)} CPU ms/req (${builds.B})`);
  console.log(`B/A: throughput ${(b / a).toFixed(3)}, CPU per request ${(cb / ca).toFixed(3)}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
