// Renders a bench run as a Markdown table and an SVG chart (no dependencies).
'use strict';

const WORKLOADS = ['burst-1s', 'burst-instant', 'sustained', 'sellout', 'flash-crowd', 'flash-ceiling', 'campaigns', 'ceiling'];
const count = (statuses, pred) => Object.entries(statuses ?? {}).reduce((n, [s, c]) => n + (pred(Number(s)) ? c : 0), 0);
const fmt = (n) => (n === undefined || n === null ? '' : typeof n === 'number' ? n.toLocaleString('en-US') : String(n));

/** Issues committed per second: rows written over the time until the last was written. */
function issuedPerSecond(w) {
  if (!w || w.issued === undefined) return undefined;
  const ms = Math.max(w.wallMs, w.drainMs ?? 0);
  return Math.round((w.issued / ms) * 1000);
}

function renderMarkdown(run) {
  const pess = run.results.find((r) => r.strategy === 'pessimistic');
  const lines = [];
  lines.push(
    `Run ${run.date} on ${run.machine.cpus} cores (${run.machine.cpuModel}), ${run.machine.memoryGiB} GiB, Node ${run.machine.node}; ` +
      `service (${run.options.apiProcesses ?? 1} API process${(run.options.apiProcesses ?? 1) > 1 ? 'es' : ''}), PostgreSQL, Redis and load generator on the same machine. Saturation runs: ${run.options.connections} connections, ` +
      `${run.options.duration} s; sell-out: ${fmt(run.options.selloutUsers)} users on ${fmt(run.options.selloutTotal)} coupons.`,
  );
  lines.push('');
  lines.push(
    '| strategy | workload | requests | 201/202 | 409 | 429 | 5xx/err | req/s | issued/s | p50 ms | p95 ms | p99 ms | max ms | CPU ms/req | issued | oversell | dups | counter gap |',
  );
  lines.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of run.results) {
    for (const name of WORKLOADS) {
      const w = r.workloads[name];
      if (!w) continue;
      const ok = count(w.statuses, (s) => s >= 200 && s < 300);
      const errs = count(w.statuses, (s) => s >= 500 || s === 0) + (w.errors ?? 0);
      lines.push(
        `| ${r.strategy} | ${name} | ${fmt(w.requests)} | ${fmt(ok)} | ${fmt(count(w.statuses, (s) => s === 409))} | ${fmt(count(w.statuses, (s) => s === 429))} | ${fmt(errs)} | ` +
          `${fmt(w.throughput)} | ${fmt(issuedPerSecond(w))} | ${w.p50} | ${w.p95} | ${w.p99} | ${w.max} | ${w.cpuMsPerRequest ?? ''} | ${fmt(w.issued)} | ` +
          `${w.oversell === undefined ? '' : w.oversell ? `**${w.oversell}**` : 0} | ${fmt(w.duplicates)} | ${w.counterMismatch === undefined ? '' : w.counterMismatch ? `**${w.counterMismatch}**` : 0} |`,
      );
    }
  }
  lines.push('');
  lines.push('| strategy | sustained req/s | sustained issued/s | × pessimistic | % of ceiling | ceiling req/s | peak RSS MiB |');
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of run.results) {
    const s = r.workloads.sustained;
    const c = r.workloads.ceiling;
    const ratio = pess && s ? (s.throughput / pess.workloads.sustained.throughput).toFixed(2) : '';
    const ofCeiling = s && c ? `${Math.round((s.throughput / c.throughput) * 100)}%` : '';
    lines.push(
      `| ${r.strategy} | ${fmt(s?.throughput)} | ${fmt(issuedPerSecond(s))} | ${ratio} | ${ofCeiling} | ${fmt(c?.throughput)} | ${fmt(r.peakRssMiB)} |`,
    );
  }
  const flashed = run.results.filter((x) => x.workloads['flash-crowd'] && x.workloads['flash-ceiling']);
  if (flashed.length) {
    const o = run.options;
    lines.push('');
    lines.push(
      `Against the HTTP ceiling, in this run: the ceiling route (\`GET /auth/session\`: the same HTTP stack, authentication and user lookup) ` +
        `saturated, and under the flash crowd's schedule (${fmt(o.flashUsers)} distinct users arriving at ${fmt(o.flashRate)}/s on ${fmt(o.flashTotal)} coupons, ` +
        `open loop: latency counts from each arrival). CPU: user + system time of the service's processes per answer ` +
        `(for queue, its worker's included; in parentheses, the API process alone).`,
    );
    lines.push('');
    lines.push(
      '| strategy | sell-out req/s ÷ ceiling | sustained issued/s ÷ ceiling | CPU/req, flash crowd ÷ ceiling | CPU/req, sustained ÷ ceiling | flash p99 ms (ceiling) | flash p99 ÷ ceiling | all answered after ms | peak RSS MiB |',
    );
    lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    const pct = (a, b) => (a && b ? `${Math.round((a / b) * 100)}%` : '');
    const ratio = (a, b) => (a && b ? (a / b).toFixed(2) : '');
    for (const r of flashed) {
      const w = r.workloads;
      lines.push(
        `| ${r.strategy} | ${pct(w.sellout?.throughput, w.ceiling?.throughput)} | ${pct(issuedPerSecond(w.sustained), w.ceiling?.throughput)} | ` +
          `${ratio(w['flash-crowd'].cpuMsPerRequest, w['flash-ceiling'].cpuMsPerRequest)} | ${ratio(w.sustained?.cpuMsPerRequest, w.ceiling?.cpuMsPerRequest)}` +
          `${w.sustained?.apiCpuMsPerRequest ? ` (API ${ratio(w.sustained.apiCpuMsPerRequest, w.ceiling?.cpuMsPerRequest)})` : ''} | ` +
          `${w['flash-crowd'].p99} (${w['flash-ceiling'].p99}) | ${ratio(w['flash-crowd'].p99, w['flash-ceiling'].p99)} | ${fmt(w['flash-crowd'].wallMs)} | ${fmt(r.peakRssMiB)} |`,
      );
    }
  }
  const churned = run.results.filter((x) => x.churn);
  if (churned.length) {
    const c0 = churned[0].churn;
    lines.push('');
    lines.push(
      `Churn: a sold-out campaign of ${fmt(c0.holders)} whose holders all give back while ${fmt(c0.crowd)} newcomers ask, both at full speed; ` +
        'then every holder redeems at once. Invariants read in SQL after; "Redis agrees": reconcile changed nothing.',
    );
    lines.push('');
    lines.push(
      '| strategy | give-backs/s | give-back p99 ms | asks/s meanwhile | units re-issued | redemptions/s | redeem p99 ms | 5xx/err | oversell | dups | counter gap | Redis agrees |',
    );
    lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
    for (const r of churned) {
      const c = r.churn;
      lines.push(
        `| ${r.strategy} | ${fmt(c.giveBacksPerSecond)} | ${c.giveBackP99} | ${fmt(c.asksPerSecond)} | ${fmt(c.reissued)} / ${fmt(c.holders)} | ${fmt(c.redemptionsPerSecond)} | ${c.redeemP99} | ${fmt(c.errors)} | ` +
          `${c.oversell ? `**${c.oversell}**` : 0} | ${fmt(c.duplicates)} | ${c.counterMismatch ? `**${c.counterMismatch}**` : 0} | ${c.redisAgrees === null ? 'n/a' : c.redisAgrees ? 'yes' : '**no**'} |`,
      );
    }
  }
  const measured = run.results.filter((x) => x.workloads.sustained?.masters && x.workloads.campaigns?.masters);
  if (measured.length) {
    lines.push('');
    lines.push(
      `Redis work, read from every master's INFO commandstats around a workload. Sustained run (one hot coupon): commands, and microseconds spent ` +
        `inside them (network and parsing not counted), over all masters per issue; "one master's limit" is 10^6 µs over that: the issues/s ` +
        `of one coupon if one master did all of it and nothing else. Then the ${run.options.campaigns ?? 8} campaigns run: how its commands and keys spread over the masters.`,
    );
    lines.push('');
    lines.push(
      "| strategy | commands / issue | Redis µs / issue | one master's limit, issues/s | campaigns issued/s | commands per master | keys per master |",
    );
    lines.push('| --- | ---: | ---: | ---: | ---: | --- | --- |');
    for (const r of measured) {
      const s = r.workloads.sustained;
      const c = r.workloads.campaigns;
      const sum = (ms, key) => ms.reduce((n, m) => n + m[key], 0);
      const usecPerIssue = s.issued ? sum(s.masters, 'usec') / s.issued : 0;
      const share = (m) => `${Math.round((m.commands / Math.max(1, sum(c.masters, 'commands'))) * 100)}%`;
      lines.push(
        `| ${r.strategy} | ${s.issued ? (sum(s.masters, 'commands') / s.issued).toFixed(1) : ''} | ${usecPerIssue.toFixed(1)} | ${usecPerIssue ? fmt(Math.round(1e6 / usecPerIssue)) : ''} | ` +
          `${fmt(issuedPerSecond(c))} | ${c.masters.map(share).join(' / ')} | ${c.masters.map((m) => fmt(m.keys)).join(' / ')} |`,
      );
    }
  }
  const soaked = run.results.filter((x) => x.soak);
  if (soaked.length) {
    lines.push('');
    lines.push(
      `Soak: ${soaked[0].soak.minutes} minutes of campaign after campaign (a coupon of ${fmt(run.options.selloutTotal)} saturated 20 s each), ` +
        "the API's RSS read every 10 s (chart: `soak.svg`). Drift: the last minute's mean against the second minute's.",
    );
    lines.push('');
    lines.push('| strategy | requests | API RSS max MiB | second minute MiB | last minute MiB | drift |');
    lines.push('| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const r of soaked) {
      const { requests, maxApiMiB, secondMinuteMiB, lastMinuteMiB, driftPercent } = r.soak;
      lines.push(`| ${r.strategy} | ${fmt(requests)} | ${maxApiMiB} | ${fmt(secondMinuteMiB)} | ${fmt(lastMinuteMiB)} | ${driftPercent ?? ''}% |`);
    }
  }
  for (const r of run.results.filter((x) => x.drain)) {
    const d = r.drain;
    lines.push('');
    lines.push(
      `Queue drain (${r.strategy}): a backlog of ${fmt(d.accepted)} accepted requests written by one worker process in ${fmt(d.ms)} ms, ` +
        `**${fmt(d.rowsPerSecond)} rows/s** into PostgreSQL (worker start-up included); oversell ${d.oversell}, duplicates ${d.duplicates}, counter gap ${d.counterMismatch}.` +
        (d.acceptsPerSecond
          ? ` The backlog was accepted with no worker running, so the accept path alone had the cores: **${fmt(d.acceptsPerSecond)} accepts/s**, ` +
            `${Math.round((d.acceptsPerSecond / d.ceilingPerSecond) * 100)}% of the ceiling route read right after (${fmt(d.ceilingPerSecond)} req/s).`
          : ''),
    );
  }
  return lines.join('\n') + '\n';
}

function renderSvg(run) {
  const W = 960,
    H = 420,
    pad = 50,
    panelW = (W - pad * 3) / 2,
    panelH = H - pad * 2 - 30;
  const colors = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2'];
  const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">Coupon issuance: sustained hot coupon (${run.options.connections} connections, ${run.options.duration} s), ${run.machine.cpus} cores</text>`,
  ];
  const strategies = run.results.map((r) => r.strategy);

  // left: throughput per strategy (req/s and issued/s), with each run's HTTP ceiling as a mark
  const tp = run.results.map((r) => ({
    req: r.workloads.sustained?.throughput ?? 0,
    issued: issuedPerSecond(r.workloads.sustained) ?? 0,
    ceiling: r.workloads.ceiling?.throughput ?? 0,
  }));
  const maxTp = Math.max(1, ...tp.flatMap((t) => [t.req, t.issued, t.ceiling]));
  const x0 = pad,
    y0 = pad + 20;
  parts.push(`<text x="${x0 + panelW / 2}" y="${y0 - 6}" text-anchor="middle" font-weight="bold">throughput (per second)</text>`);
  parts.push(`<line x1="${x0}" y1="${y0 + panelH}" x2="${x0 + panelW}" y2="${y0 + panelH}" stroke="#333"/>`);
  const slot = panelW / strategies.length;
  tp.forEach((t, i) => {
    const bw = slot / 3.2;
    [
      [t.req, colors[0], 'req/s'],
      [t.issued, colors[2], 'issued/s'],
    ].forEach(([v, color], j) => {
      const h = (v / maxTp) * panelH;
      const x = x0 + i * slot + slot * 0.15 + j * (bw + 4);
      parts.push(`<rect x="${x}" y="${y0 + panelH - h}" width="${bw}" height="${h}" fill="${color}"/>`);
      parts.push(`<text x="${x + bw / 2}" y="${y0 + panelH - h - 4}" text-anchor="middle" font-size="10">${fmt(v)}</text>`);
    });
    const cy = y0 + panelH - (t.ceiling / maxTp) * panelH;
    parts.push(`<line x1="${x0 + i * slot + 4}" y1="${cy}" x2="${x0 + (i + 1) * slot - 4}" y2="${cy}" stroke="#e15759" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${x0 + i * slot + slot / 2}" y="${cy - 4}" text-anchor="middle" font-size="10" fill="#e15759">${fmt(t.ceiling)}</text>`);
    parts.push(`<text x="${x0 + i * slot + slot / 2}" y="${y0 + panelH + 16}" text-anchor="middle">${esc(strategies[i])}</text>`);
  });
  parts.push(`<rect x="${x0}" y="${H - 22}" width="10" height="10" fill="${colors[0]}"/><text x="${x0 + 14}" y="${H - 13}">requests/s</text>`);
  parts.push(`<rect x="${x0 + 90}" y="${H - 22}" width="10" height="10" fill="${colors[2]}"/><text x="${x0 + 104}" y="${H - 13}">issued/s</text>`);
  parts.push(
    `<line x1="${x0 + 170}" y1="${H - 17}" x2="${x0 + 190}" y2="${H - 17}" stroke="#e15759" stroke-dasharray="4 3"/><text x="${x0 + 194}" y="${H - 13}">HTTP ceiling (trivial authenticated route)</text>`,
  );

  // right: p50 / p95 / p99 latency per strategy, sustained run (log scale)
  const x1 = pad * 2 + panelW;
  const lat = run.results.map((r) => [r.workloads.sustained?.p50 ?? 0, r.workloads.sustained?.p95 ?? 0, r.workloads.sustained?.p99 ?? 0]);
  const maxLat = Math.max(1, ...lat.flat());
  const logMax = Math.log10(maxLat * 1.5),
    logMin = -1;
  const yOf = (v) => y0 + panelH - ((Math.log10(Math.max(v, 0.1)) - logMin) / (logMax - logMin)) * panelH;
  parts.push(`<text x="${x1 + panelW / 2}" y="${y0 - 6}" text-anchor="middle" font-weight="bold">latency, ms (log scale)</text>`);
  parts.push(`<line x1="${x1}" y1="${y0 + panelH}" x2="${x1 + panelW}" y2="${y0 + panelH}" stroke="#333"/>`);
  for (const tick of [0.1, 1, 10, 100, 1000, 10000].filter((t) => Math.log10(t) <= logMax)) {
    parts.push(
      `<line x1="${x1}" y1="${yOf(tick)}" x2="${x1 + panelW}" y2="${yOf(tick)}" stroke="#ddd"/><text x="${x1 - 4}" y="${yOf(tick) + 4}" text-anchor="end" font-size="10">${tick}</text>`,
    );
  }
  lat.forEach((values, i) => {
    const bw = slot / 4.5;
    values.forEach((v, j) => {
      const x = x1 + i * slot + slot * 0.12 + j * (bw + 3);
      const y = yOf(v);
      parts.push(`<rect x="${x}" y="${y}" width="${bw}" height="${y0 + panelH - y}" fill="${colors[j === 0 ? 2 : j === 1 ? 1 : 3]}"/>`);
      parts.push(`<text x="${x + bw / 2}" y="${y - 4}" text-anchor="middle" font-size="9">${v}</text>`);
    });
    parts.push(`<text x="${x1 + i * slot + slot / 2}" y="${y0 + panelH + 16}" text-anchor="middle">${esc(strategies[i])}</text>`);
  });
  [
    ['p50', colors[2]],
    ['p95', colors[1]],
    ['p99', colors[3]],
  ].forEach(([label, color], j) => {
    parts.push(`<rect x="${x1 + j * 60}" y="${H - 22}" width="10" height="10" fill="${color}"/><text x="${x1 + j * 60 + 14}" y="${H - 13}">${label}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** RSS of each strategy's API over the soak, one line each. */
function renderSoakSvg(run) {
  const soaked = run.results.filter((r) => r.soak);
  const W = 760,
    H = 320,
    pad = 50;
  const colors = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2'];
  const maxS = Math.max(1, ...soaked.flatMap((r) => r.soak.samples.map((x) => x.s)));
  const maxMiB = Math.max(50, ...soaked.flatMap((r) => r.soak.samples.map((x) => x.apiMiB ?? 0))) * 1.15;
  const x = (sec) => pad + (sec / maxS) * (W - pad * 2);
  const y = (mib) => H - pad - (mib / maxMiB) * (H - pad * 2);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">API resident memory over a ${soaked[0]?.soak.minutes ?? 0}-minute soak (MiB)</text>`,
    `<line x1="${pad}" y1="${H - pad}" x2="${W - pad}" y2="${H - pad}" stroke="#333"/><line x1="${pad}" y1="${pad}" x2="${pad}" y2="${H - pad}" stroke="#333"/>`,
  ];
  for (let mib = 0; mib <= maxMiB; mib += 50) {
    parts.push(
      `<line x1="${pad}" y1="${y(mib)}" x2="${W - pad}" y2="${y(mib)}" stroke="#eee"/><text x="${pad - 6}" y="${y(mib) + 4}" text-anchor="end" font-size="10">${mib}</text>`,
    );
  }
  for (let sec = 0; sec <= maxS; sec += 60) parts.push(`<text x="${x(sec)}" y="${H - pad + 16}" text-anchor="middle" font-size="10">${sec / 60} min</text>`);
  soaked.forEach((r, i) => {
    const points = r.soak.samples.filter((p) => p.apiMiB !== null).map((p) => `${x(p.s).toFixed(1)},${y(p.apiMiB).toFixed(1)}`);
    parts.push(`<polyline fill="none" stroke="${colors[i % colors.length]}" stroke-width="2" points="${points.join(' ')}"/>`);
    parts.push(
      `<rect x="${pad + i * 130}" y="${H - 18}" width="10" height="10" fill="${colors[i % colors.length]}"/><text x="${pad + i * 130 + 14}" y="${H - 9}">${r.strategy}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

module.exports = { renderMarkdown, renderSvg, renderSoakSvg, count };
