// `node bench/ceiling-ab.js --a DIR --b DIR`: the ceiling route (GET /auth/session: the HTTP stack,
// authentication and the user lookup) of two builds of the service, A and B, in alternation on one
// database, in one run: round after round, each build started afresh and saturated for the same
// time. For a change whose cost is a few percent, alternation beats two runs an hour apart on a
// machine whose throughput drifts by more than that. Each DIR is a project root with `dist/`
// built (`npm run build`); B defaults to this one.
'use strict';
const { spawn } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const { join, resolve } = require('node:path');
const { parseArgs } = require('node:util');
const { Client } = require('pg');
const { saturate } = require('./load');

const { values: opt } = parseArgs({
  options: {
    a: { type: 'string' },
    b: { type: 'string', default: join(__dirname, '..') },
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '64' },
    pg: { type: 'string', default: process.env.BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432' },
  },
});
if (!opt.a) throw new Error('--a DIR: the project root of the build to compare against (with dist/ built)');
const builds = { A: resolve(opt.a), B: resolve(opt.b) };
const db = `bench_ab_${process.pid}`;
const secret = randomBytes(32).toString('hex');
const port = 26000 + Math.floor(Math.random() * 6000);
const base = `http://127.0.0.1:${port}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function sql(database, text) {
  const client = new Client({ connectionString: `${opt.pg}/${database}` });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

function start(root) {
  const env = { ...process.env, NODE_ENV: 'production', PORT: String(port), DATABASE_URL: `${opt.pg}/${db}`, JWT_SECRET_KEY: secret, LOG_LEVEL: 'error' };
  for (const name of ['REDIS_URL', 'ISSUANCE_STRATEGY', 'REDIS_CLUSTER_NODES']) delete env[name]; // pessimistic: PostgreSQL only
  return spawn(process.execPath, [join(root, 'dist', 'main.js')], { env, stdio: ['ignore', 'ignore', 'inherit'] });
}

async function untilHealthy() {
  for (let i = 0; i < 300; i++, await sleep(100))
    if (
      await fetch(`${base}/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
  throw new Error('the service never became healthy');
}

const stop = (child) => new Promise((done) => (child.exitCode !== null ? done() : (child.once('exit', done), child.kill('SIGTERM'))));

async function main() {
  await sql('postgres', `CREATE DATABASE ${db}`);
  const runs = { A: [], B: [] };
  try {
    let tokens;
    for (let round = 1; round <= Number(opt.rounds); round++) {
      for (const name of ['A', 'B']) {
        const child = start(builds[name]);
        try {
          await untilHealthy(); // the first start migrates the database
          if (!tokens) {
            process.env.DISABLE_V8_COMPILE_CACHE = '1'; // ts-node would leave its compile cache in /tmp
            require('ts-node').register({ transpileOnly: true, project: join(__dirname, '..', 'tsconfig.json') });
            const users = await require('../load-test-users').ensureLoadTestUsers(`${opt.pg}/${db}`, { secret, expiresInSeconds: 3600 }, 2000);
            tokens = users.map((u) => u.token);
          }
          await saturate({ url: `${base}/auth/session`, method: 'GET', tokens, connections: Number(opt.connections), amount: 3000 }); // warm-up
          const load = await saturate({
            url: `${base}/auth/session`,
            method: 'GET',
            tokens,
            connections: Number(opt.connections),
            durationS: Number(opt.duration),
          });
          runs[name].push(load.throughput);
          console.log(`round ${round} ${name}: ${load.throughput} req/s (p99 ${load.p99} ms, non-200: ${load.requests - (load.statuses[200] ?? 0)})`);
        } finally {
          await stop(child);
        }
      }
    }
  } finally {
    await sql('postgres', `DROP DATABASE IF EXISTS ${db}`);
  }
  const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  const [a, b] = [median(runs.A), median(runs.B)];
  console.log(`median A ${Math.round(a)} req/s (${builds.A}), B ${Math.round(b)} req/s (${builds.B}): B/A = ${(b / a).toFixed(3)}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
