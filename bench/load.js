// Load generators for the benchmark: an open-loop burst (requests fired on a schedule, whatever
// the answers) and a closed-loop saturation run (autocannon: N connections, each sending its next
// request as soon as the previous answer arrives). Every request carries its own user's JWT.
'use strict';
const autocannon = require('autocannon');
const { Agent, request } = require('undici');

function summarize(latencies, statuses, wallMs) {
  const sorted = Float64Array.from(latencies).sort();
  const q = (p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : 0);
  return {
    requests: sorted.length,
    statuses,
    wallMs: Math.round(wallMs),
    throughput: Math.round((sorted.length / wallMs) * 1000),
    p50: +q(0.5).toFixed(1),
    p95: +q(0.95).toFixed(1),
    p99: +q(0.99).toFixed(1),
    max: +(sorted.length ? sorted[sorted.length - 1] : 0).toFixed(1),
  };
}

/**
 * The answers of an open-loop run as they come: latencies, and counts by status (0: none came).
 * `ask` sends one request with the user's token; its latency counts from `since` (default: now).
 */
function openLoopTally(url, method, dispatcher) {
  const latencies = [];
  const statuses = {};
  const ask = async (token, since = performance.now()) => {
    let status = 0;
    try {
      const res = await request(url, { method, dispatcher, headers: { authorization: `Bearer ${token}` } });
      status = res.statusCode;
      await res.body.dump();
    } catch {
      status = 0;
    }
    latencies.push(performance.now() - since);
    statuses[status] = (statuses[status] ?? 0) + 1;
  };
  return { ask, summary: (wallMs) => summarize(latencies, statuses, wallMs) };
}

/** Fires one request per token, spread evenly over `spreadMs` (0: all at one instant). */
async function burst({ url, method = 'POST', tokens, spreadMs }) {
  const agent = new Agent({ connections: tokens.length, pipelining: 0, keepAliveTimeout: 10_000 });
  const tally = openLoopTally(url, method, agent);
  const t0 = performance.now();
  await Promise.all(
    tokens.map((token, i) => {
      const at = spreadMs ? (i * spreadMs) / tokens.length : 0;
      return at ? new Promise((resolve) => setTimeout(() => tally.ask(token).then(resolve), at)) : tally.ask(token);
    }),
  );
  const wall = performance.now() - t0;
  await agent.close();
  return tally.summary(wall);
}

/**
 * Saturates the service: `connections` concurrent keep-alive connections, each user's token used
 * once, until `durationS` passes or `amount` requests were sent, whichever comes first. With
 * `bodies`, request i carries bodies[i] (JSON text) beside tokens[i]; with `paths`, it goes to
 * paths[i % paths.length] on `url`'s server (several campaigns at once, in turn).
 */
function saturate({ url, method = 'POST', tokens, bodies, paths, connections, durationS, amount }) {
  let next = 0;
  let lastAnswerAt = 0;
  const latencies = [];
  const statuses = {};
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    autocannon(
      {
        url,
        connections,
        ...(amount ? { amount } : { duration: durationS }),
        timeout: 30,
        requests: [
          {
            method,
            setupRequest: (req) => {
              const n = next++;
              const i = n % tokens.length;
              if (paths) req = { ...req, path: paths[n % paths.length] };
              const headers = { ...req.headers, authorization: `Bearer ${tokens[i]}` };
              if (!bodies) return { ...req, headers };
              return { ...req, headers: { ...headers, 'content-type': 'application/json' }, body: bodies[i] };
            },
          },
        ],
        setupClient: (client) => {
          client.on('response', (status, _bytes, ms) => {
            lastAnswerAt = performance.now();
            latencies.push(ms);
            statuses[status] = (statuses[status] ?? 0) + 1;
          });
        },
      },
      (error, result) => {
        if (error) return reject(error);
        // a run of `amount` requests ends at its last answer (autocannon reports done on its next 1 s tick)
        const summary = summarize(latencies, statuses, (amount && lastAnswerAt ? lastAnswerAt : performance.now()) - t0);
        summary.errors = result.errors + result.timeouts;
        summary.tokensUsed = Math.min(next, tokens.length);
        summary.tokensWrapped = next > tokens.length;
        resolve(summary);
      },
    );
  });
}

/**
 * Open loop at a fixed rate: request i is due at i / ratePerSecond, whatever the answers before it
 * (a crowd arriving, not clients waiting for each other), over a pool of `connections` keep-alive
 * connections. A request's latency counts from when it was due, so time spent queued behind a
 * slow service counts too. `wallMs`: from the first arrival until everyone has an answer.
 */
async function arrive({ url, method = 'POST', tokens, ratePerSecond, connections = 256 }) {
  const pool = new Agent({ connections, pipelining: 1, keepAliveTimeout: 10_000 });
  const tally = openLoopTally(url, method, pool);
  const t0 = performance.now() + 50;
  const pending = [];
  for (let i = 0; i < tokens.length; i++) {
    const due = t0 + (i * 1000) / ratePerSecond;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(tally.ask(tokens[i], due));
  }
  await Promise.all(pending);
  const wall = performance.now() - t0;
  await pool.close();
  return tally.summary(wall);
}

module.exports = { burst, saturate, arrive };
