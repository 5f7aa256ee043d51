// What the bench's tools (run.js, ab.js) share about the service they start: Node's flags, the
// CPU time it has used, when it is up, calls to its HTTP API, and SQL on the server behind it.
'use strict';
const { execFileSync } = require('node:child_process');
const { readFileSync } = require('node:fs');
const { Client } = require('pg');

/** Node's flags for the service, as `npm run start:prod` passes them (its memory bounds), unless `override` (a flag string) is given. */
function serviceNodeFlags(override) {
  const flags =
    override ??
    /node (.*) dist\/main\.js/
      .exec(require('../package.json').scripts['start:prod'])[1]
      .replace(/\$\{(\w+):-([^}]*)\}/g, (_, name, dflt) => process.env[name] || dflt);
  return flags.split(' ').filter(Boolean);
}

const CLOCK_TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** CPU time (user + system) the process has used so far, in ms, from /proc/<pid>/stat; throws once it has exited. */
function processCpuMs(pid) {
  // fields after the command name, which is in parentheses and may hold spaces
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND; // utime, stime (fields 14 and 15 of stat)
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolves once the service at `base` answers /health with 200 (it migrates its database first); throws after 30 s. */
async function waitHealthy(base) {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${base}/health`)).status === 200) return;
    } catch {}
    await sleep(100);
  }
  throw new Error(`${base} never became healthy`);
}

/** One call to the service's API: its status and JSON body (empty when it has none). */
async function http(base, method, path, token, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json().catch(() => ({})) };
}

/** One statement on database `db` of the PostgreSQL server at `server` (a URL without the database), on a connection of its own. */
async function sql(server, db, text, params) {
  const client = new Client({ connectionString: `${server}/${db}` });
  await client.connect();
  try {
    return (await client.query(text, params)).rows;
  } finally {
    await client.end();
  }
}

module.exports = { serviceNodeFlags, processCpuMs, waitHealthy, http, sql };
