// Renders a V8 CPU profile (.cpuprofile, from node --cpu-prof) as a flame graph in SVG, root at
// the bottom, one box per call path, its width the share of samples under it. No dependencies.
'use strict';

const WIDTH = 1200;
const ROW = 16;
const MIN_SHARE = 0.002; // boxes under 0.2% of the samples are left out

/** Where a frame's code lives, for its colour and a short label. */
function origin(url) {
  if (!url) return 'vm';
  if (url.includes('/node_modules/')) return 'library';
  if (url.includes('/dist/') || url.includes('/src/')) return 'service';
  return 'node';
}
const COLOURS = { service: '#4e79a7', library: '#f28e2b', node: '#bab0ac', vm: '#e15759' };

function label(frame) {
  const file = (frame.url || '')
    .replace(/^.*\/node_modules\//, '')
    .replace(/^.*\/(dist|src)\//, '')
    .replace(/^node:/, '');
  return `${frame.functionName || '(anonymous)'}${file ? ` ${file}:${frame.lineNumber + 1}` : ''}`;
}

/** Samples under each node (its own and its children's), as a tree from the root. */
function tree(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, { ...n, self: 0, total: 0 }]));
  for (const id of profile.samples) byId.get(id).self++;
  const total = (node) => (node.total = node.self + (node.children ?? []).reduce((sum, c) => sum + total(byId.get(c)), 0));
  const root = byId.get(profile.nodes[0].id);
  total(root);
  return { root, byId };
}

function renderFlameSvg(profile, title) {
  const { root, byId } = tree(profile);
  // idle and GC samples sit under the root beside the program: left out, so widths are the work
  const skip = new Set(['(idle)', '(program)']);
  const busy = (root.children ?? []).map((c) => byId.get(c)).filter((n) => !skip.has(n.callFrame.functionName));
  const all = busy.reduce((sum, n) => sum + n.total, 0) || 1;
  const boxes = [];
  let depth = 0;
  const place = (node, x, level) => {
    const width = (node.total / all) * WIDTH;
    if (node.total / all < MIN_SHARE) return;
    depth = Math.max(depth, level);
    boxes.push({ x, level, width, node });
    let cx = x;
    for (const c of (node.children ?? []).map((id) => byId.get(id)).sort((a, b) => b.total - a.total)) {
      place(c, cx, level + 1);
      cx += (c.total / all) * WIDTH;
    }
  };
  let x = 0;
  for (const n of busy.sort((a, b) => b.total - a.total)) {
    place(n, x, 0);
    x += (n.total / all) * WIDTH;
  }
  const height = (depth + 1) * ROW + 60;
  const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="monospace" font-size="10">`,
    `<rect width="${WIDTH}" height="${height}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="16" text-anchor="middle" font-family="sans-serif" font-size="13" font-weight="bold">${esc(title)}</text>`,
    `<text x="${WIDTH / 2}" y="32" text-anchor="middle" font-family="sans-serif" font-size="11">blue: the service · orange: libraries · grey: Node · red: V8 (GC); width: share of busy samples; hover for figures</text>`,
  ];
  for (const { x: bx, level, width, node } of boxes) {
    const y = height - 20 - (level + 1) * ROW;
    const share = ((node.total / all) * 100).toFixed(1);
    const text = label(node.callFrame);
    const fits = Math.floor((width - 4) / 6);
    parts.push(
      `<g><title>${esc(text)}: ${share}% (${node.total} samples, ${node.self} own)</title>` +
        `<rect x="${bx.toFixed(1)}" y="${y}" width="${Math.max(0.5, width - 0.5).toFixed(1)}" height="${ROW - 1}" fill="${COLOURS[origin(node.callFrame.url)]}" rx="1"/>` +
        (fits > 3
          ? `<text x="${(bx + 2).toFixed(1)}" y="${y + 11}" fill="white">${esc(text.length > fits ? `${text.slice(0, fits - 1)}…` : text)}</text>`
          : '') +
        '</g>',
    );
  }
  parts.push('</svg>');
  return parts.join('\n');
}

/** The heaviest frames by own samples, as Markdown lines (for the README and the console). */
function topFrames(profile, count = 15) {
  const { byId } = tree(profile);
  const own = new Map();
  let all = 0;
  for (const node of byId.values()) {
    if (['(idle)', '(program)'].includes(node.callFrame.functionName)) continue;
    all += node.self;
    const key = label(node.callFrame);
    own.set(key, (own.get(key) ?? 0) + node.self);
  }
  return [...own]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, n]) => `| ${((n / all) * 100).toFixed(1)}% | \`${name}\` |`);
}

module.exports = { renderFlameSvg, topFrames };
