// The admin page: plain DOM and fetch against the service's own API, no build step.
// The token lives in sessionStorage (gone with the tab); every call sends it as a Bearer token.

const POLL_MS = 500;
const LIST_REFRESH_MS = 5000;
const CHART_SECONDS = 60;
const TOKEN_KEY = 'coupon-admin-token';

const $ = (selector) => document.querySelector(selector);
let token = sessionStorage.getItem(TOKEN_KEY);
let listTimer = null;
let watched = null; // { id, timer, samples: [{t, issued}], rates: [{t, perSecond}] }

class ApiError extends Error {}

async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  if (res.status === 401 && path !== '/auth/login') {
    logOut('Your session ended: log in again.');
    throw new ApiError('not logged in');
  }
  if (!res.ok) throw new ApiError(data?.message ?? `${method} ${path}: HTTP ${res.status}`);
  return data;
}

function say(text, isError = false) {
  const message = $('#message');
  message.textContent = text;
  message.classList.toggle('error', isError);
}

/** Runs an action, showing its error (the API's message) instead of failing silently. */
const guarded = (action) => async (event) => {
  event?.preventDefault();
  try {
    await action(event);
  } catch (error) {
    if (!(error instanceof ApiError && error.message === 'not logged in')) say(error.message, true);
  }
};

function show(view) {
  $('#login-view').hidden = view !== 'login';
  $('#coupons-view').hidden = view !== 'coupons';
  $('#logout').hidden = view !== 'coupons';
}

function logOut(text = '') {
  token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  clearTimeout(listTimer);
  stopWatching();
  $('#who').textContent = '';
  show('login');
  say(text, Boolean(text));
}

async function start() {
  if (!token) return show('login');
  const me = await api('GET', '/users/me');
  if (me.role !== 'admin') {
    logOut(`${me.email} is not an admin: this page is for admins.`);
    return;
  }
  $('#who').textContent = me.email;
  show('coupons');
  await loadCoupons();
  refreshList();
}

/** Other admins' changes (and other coupons' progress) show up within a few seconds. */
function refreshList() {
  clearTimeout(listTimer);
  listTimer = setTimeout(() => {
    if (token)
      loadCoupons()
        .catch((error) => say(error.message, true))
        .finally(refreshList);
  }, LIST_REFRESH_MS);
}

async function loadCoupons() {
  const { items } = await api('GET', '/coupons?limit=100');
  const rows = items.map((coupon) => {
    const row = document.createElement('tr');
    row.dataset.id = coupon.id;
    row.classList.toggle('watched', watched?.id === coupon.id);
    for (const [text, cls] of [[coupon.id, 'num'], [coupon.name], [coupon.status], [coupon.issuedQuantity, 'num'], [coupon.totalQuantity, 'num']]) {
      const cell = row.insertCell();
      cell.textContent = String(text);
      if (cls) cell.className = cls;
    }
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = 'Watch';
    button.addEventListener(
      'click',
      guarded(() => watch(coupon.id)),
    );
    row.insertCell().append(button);
    return row;
  });
  $('#coupons tbody').replaceChildren(...rows);
}

const isoOrUndefined = (local) => (local ? new Date(local).toISOString() : undefined);

async function createCoupon(event) {
  const form = new FormData(event.target);
  const coupon = await api('POST', '/coupons', {
    name: form.get('name'),
    totalQuantity: Number(form.get('totalQuantity')),
    startsAt: isoOrUndefined(form.get('startsAt')),
    endsAt: isoOrUndefined(form.get('endsAt')),
  });
  event.target.reset();
  say(`Created “${coupon.name}” with ${coupon.totalQuantity} coupons.`);
  await loadCoupons();
  await watch(coupon.id);
}

function stopWatching() {
  if (watched) clearTimeout(watched.timer);
  watched = null;
  $('#watch').hidden = true;
}

async function watch(id) {
  stopWatching();
  watched = { id, timer: null, samples: [], rates: [] };
  $('#edit-form').hidden = true;
  $('#issues-panel').hidden = true;
  $('#watch').hidden = false;
  for (const row of document.querySelectorAll('#coupons tbody tr')) row.classList.toggle('watched', Number(row.dataset.id) === id);
  await poll(watched);
}

async function poll(current) {
  try {
    const [coupon, stats] = await Promise.all([api('GET', `/coupons/${current.id}`), api('GET', `/coupons/${current.id}/stats`)]);
    if (watched !== current) return;
    render(current, coupon, stats);
  } catch (error) {
    if (watched !== current) return;
    say(error.message, true);
  }
  if (watched === current) current.timer = setTimeout(() => poll(current), POLL_MS);
}

function render(current, coupon, stats) {
  current.coupon = coupon;
  const now = performance.now();
  const last = current.samples.at(-1);
  current.samples.push({ t: now, issued: stats.issuedQuantity });
  if (last) current.rates.push({ t: now, perSecond: ((stats.issuedQuantity - last.issued) * 1000) / (now - last.t) });
  current.rates = current.rates.filter((r) => now - r.t <= CHART_SECONDS * 1000);
  current.samples = current.samples.slice(-2);

  const row = document.querySelector(`#coupons tbody tr[data-id="${coupon.id}"]`);
  if (row) row.cells[3].textContent = String(stats.issuedQuantity);
  $('#watch-name').textContent = coupon.name;
  $('#watch-status').textContent = coupon.status;
  $('#sold-out').hidden = stats.remainingQuantity > 0;
  $('#remaining').textContent = stats.remainingQuantity;
  $('#issued').textContent = `${stats.issuedQuantity} / ${stats.totalQuantity}`;
  $('#pending').textContent = stats.pending;
  $('#redeemed').textContent = stats.redeemedQuantity;
  $('#cancelled').textContent = stats.cancelledQuantity;
  // Redis-vs-PostgreSQL: only strategies that keep stock in Redis report redisReserved
  $('#gap').textContent = typeof stats.redisReserved === 'number' ? stats.redisReserved - stats.issuedRows : 'n/a';
  $('#rate').textContent = current.rates.length ? Math.round(current.rates.at(-1).perSecond) : '–';
  $('#progress-bar').style.width = `${stats.totalQuantity ? (100 * stats.issuedQuantity) / stats.totalQuantity : 0}%`;
  drawChart(current.rates, now);
}

/** Issues per second over the last minute, as a line on a canvas. */
function drawChart(rates, now) {
  const canvas = $('#chart');
  const ctx = canvas.getContext('2d');
  const { width, height } = canvas;
  const pad = { left: 40, right: 8, top: 10, bottom: 18 };
  ctx.clearRect(0, 0, width, height);
  const max = Math.max(10, ...rates.map((r) => r.perSecond));
  const x = (t) => pad.left + ((t - (now - CHART_SECONDS * 1000)) / (CHART_SECONDS * 1000)) * (width - pad.left - pad.right);
  const y = (v) => height - pad.bottom - (v / max) * (height - pad.top - pad.bottom);

  ctx.strokeStyle = '#e2e8f0';
  ctx.fillStyle = '#64748b';
  ctx.font = '11px system-ui, sans-serif';
  for (const v of [0, max / 2, max]) {
    ctx.beginPath();
    ctx.moveTo(pad.left, y(v));
    ctx.lineTo(width - pad.right, y(v));
    ctx.stroke();
    ctx.fillText(String(Math.round(v)), 4, y(v) + 4);
  }
  ctx.fillText(`issues/s, last ${CHART_SECONDS} s`, pad.left, height - 4);
  if (rates.length < 1) return;
  ctx.strokeStyle = '#2563eb';
  ctx.lineWidth = 2;
  ctx.beginPath();
  rates.forEach((r, i) => (i ? ctx.lineTo(x(r.t), y(r.perSecond)) : ctx.moveTo(x(r.t), y(r.perSecond))));
  ctx.stroke();
}

async function reconcile() {
  const stats = await api('POST', `/coupons/${watched.id}/reconcile`);
  const gap = typeof stats.redisReserved === 'number' ? `, stock gap ${stats.redisReserved - stats.issuedRows}` : '';
  say(`Reconciled: ${stats.issuedRows} issued in PostgreSQL${gap}.`);
}

const ISSUES_SHOWN = 20;

/** The watched coupon's latest issues, each with its status; an unredeemed one can be revoked. */
async function loadIssues() {
  const id = watched.id;
  const { items } = await api('GET', `/coupons/${id}/issues?limit=${ISSUES_SHOWN}`);
  if (watched?.id !== id) return;
  const rows = items.map((issue) => {
    const row = document.createElement('tr');
    row.dataset.issueId = issue.issueId;
    for (const [text, cls] of [
      [issue.issueId, 'num'],
      [issue.userId, 'num'],
      [issue.code, 'code'],
      [new Date(issue.issuedAt).toLocaleString()],
      [issue.status],
    ]) {
      const cell = row.insertCell();
      cell.textContent = String(text);
      if (cls) cell.className = cls;
    }
    const action = row.insertCell();
    if (issue.status !== 'REDEEMED') {
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = 'Revoke';
      button.addEventListener(
        'click',
        guarded(() => revoke(id, issue)),
      );
      action.append(button);
    }
    return row;
  });
  $('#issues tbody').replaceChildren(...rows);
  $('#issues-panel').hidden = false;
}

async function revoke(couponId, issue) {
  await api('DELETE', `/coupons/${couponId}/issues/${issue.issueId}`);
  say(`Revoked issue ${issue.issueId} of user ${issue.userId}: its unit is back in stock.`);
  if (watched?.id === couponId) await loadIssues();
}

function openEdit() {
  const form = $('#edit-form');
  const { coupon } = watched;
  if (!coupon) return;
  form.elements.name.value = coupon.name;
  form.elements.totalQuantity.value = coupon.totalQuantity;
  form.elements.status.value = coupon.status;
  form.hidden = false;
}

async function saveEdit(event) {
  const form = new FormData(event.target);
  const coupon = await api('PATCH', `/coupons/${watched.id}`, {
    name: form.get('name'),
    totalQuantity: Number(form.get('totalQuantity')),
    status: form.get('status'),
  });
  event.target.hidden = true;
  say(`Saved “${coupon.name}”.`);
  await loadCoupons();
}

$('#login-form').addEventListener(
  'submit',
  guarded(async (event) => {
    const form = new FormData(event.target);
    const login = await api('POST', '/auth/login', { email: form.get('email'), password: form.get('password') });
    token = login.accessToken;
    sessionStorage.setItem(TOKEN_KEY, token);
    event.target.reset();
    say('');
    await start();
  }),
);
$('#logout').addEventListener('click', () => logOut());
$('#create-form').addEventListener('submit', guarded(createCoupon));
$('#reconcile').addEventListener('click', guarded(reconcile));
$('#edit').addEventListener('click', openEdit);
$('#load-issues').addEventListener('click', guarded(loadIssues));
$('#edit-cancel').addEventListener('click', () => ($('#edit-form').hidden = true));
$('#edit-form').addEventListener('submit', guarded(saveEdit));
guarded(start)();
