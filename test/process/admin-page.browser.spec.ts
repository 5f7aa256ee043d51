/// <reference lib="dom" />
// (page functions below run in the browser)
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, Page } from 'playwright-core';
import { launchChromium } from '../support/chromium';
import { countStatuses } from '../support/invariants';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * /admin end to end in headless Chromium (Debian's `chromium` when installed, else the one the
 * `@sparticuz/chromium` devDependency ships): log in, create a coupon, watch it sell out while a
 * burst hits the API, edit it, reconcile; then look at a screenshot of the page.
 */
const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts');

describe('admin page in headless Chromium (redis strategy)', () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  const admin = { email: `page-admin-${Date.now()}@example.test`, password: 'admin-page-password' };
  const cspViolations: string[] = [];

  beforeAll(async () => {
    t = await startTestApp('redis');
    const signup = await t.http('POST', '/auth/signup', { body: admin });
    expect(signup.status).toBe(201);
    await t.sql.query(`UPDATE users SET role = 'admin' WHERE email = $1`, [admin.email]);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('pageerror', (error) => {
      throw error;
    });
    // the page runs under its Content-Security-Policy: anything it blocks is a failure here
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content.Security.Policy/i.test(message.text())) cspViolations.push(message.text());
    });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  const text = (selector: string) => page.locator(selector).innerText();

  it('refuses a wrong password and a non-admin, with the reason on the page', async () => {
    await page.goto(`${t.baseUrl}/admin`);
    expect(page.url()).toBe(`${t.baseUrl}/admin/`);
    await page.fill('#login-form [name=email]', admin.email);
    await page.fill('#login-form [name=password]', 'not-the-password');
    await page.click('#login-form button');
    await page.waitForSelector('#message.error');
    expect(await text('#message')).toBe('Email or password is wrong');

    const user = { email: `page-user-${Date.now()}@example.test`, password: 'plain-user-password' };
    expect((await t.http('POST', '/auth/signup', { body: user })).status).toBe(201);
    await page.fill('#login-form [name=email]', user.email);
    await page.fill('#login-form [name=password]', user.password);
    await page.click('#login-form button');
    await page.waitForFunction(() => /not an admin/.test(document.querySelector('#message')!.textContent ?? ''));
    expect(await page.isVisible('#coupons-view')).toBe(false);
  });

  it('logs in, creates a coupon, watches it sell out under a burst, edits it and reconciles', async () => {
    await page.fill('#login-form [name=email]', admin.email);
    await page.fill('#login-form [name=password]', admin.password);
    await page.click('#login-form button');
    await page.waitForSelector('#coupons-view', { state: 'visible' });
    expect(await text('#who')).toBe(admin.email);

    const name = `Flash ${Date.now()}`;
    await page.fill('#create-form [name=name]', name);
    await page.fill('#create-form [name=totalQuantity]', '30');
    await page.click('#create-form button');
    await page.waitForSelector('#watch', { state: 'visible' });
    await page.waitForFunction(() => document.querySelector('#remaining')!.textContent === '30');
    expect(await text('#watch-name')).toBe(name);
    expect(await page.isVisible('#sold-out')).toBe(false);
    const { rows } = await t.sql.query(`SELECT id FROM coupons WHERE name = $1`, [name]);
    const id = Number(rows[0].id);
    expect(await page.locator('#coupons tbody tr', { hasText: name }).count()).toBe(1);

    // the burst, in waves a poll apart so the chart has a few points: 40 users for 30 coupons
    const users = await t.users(40);
    const results = [];
    for (let wave = 0; wave < 4; wave++) {
      const batch = users.slice(wave * 10, wave * 10 + 10);
      results.push(...(await Promise.all(batch.map((u) => t.http('POST', `/coupons/${id}/issue`, { token: u.token })))));
      await page.waitForTimeout(700);
    }
    expect(countStatuses(results)).toEqual({ 201: 30, 409: 10 });

    await page.waitForSelector('#sold-out', { state: 'visible' });
    expect(await text('#remaining')).toBe('0');
    expect(await text('#issued')).toBe('30 / 30');
    expect(await text('#pending')).toBe('0');
    expect(await text('#gap')).toBe('0');
    expect(await text('#redeemed')).toBe('0');
    expect(await text('#cancelled')).toBe('0');
    expect(await page.locator('#coupons tbody tr', { hasText: name }).locator('td').nth(3).innerText()).toBe('30');
    expect(await page.isVisible('#edit-form')).toBe(false);

    await looksSoldOutWithAChart(browser, page);

    // edit: more stock brings it back from sold out
    await page.click('#edit');
    await page.fill('#edit-form [name=totalQuantity]', '35');
    await page.fill('#edit-form [name=name]', `${name} (extended)`);
    await page.click('#edit-form button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#remaining')!.textContent === '5');
    expect(await page.isVisible('#sold-out')).toBe(false);
    await page.waitForSelector(`#coupons tbody tr:has-text("${name} (extended)")`);
    expect((await t.sql.query(`SELECT total_quantity, name FROM coupons WHERE id = $1`, [id])).rows[0]).toEqual({
      total_quantity: 35,
      name: `${name} (extended)`,
    });

    // reconcile: a unit taken in Redis with no row behind it shows as a gap, and reconcile closes it
    await t.redis.connect().catch(() => undefined);
    await t.redis.hincrby(`coupon:{${id}}:meta`, 'taken', 1);
    await page.waitForFunction(() => document.querySelector('#gap')!.textContent === '1');
    await page.click('#reconcile');
    await page.waitForFunction(() => /^Reconciled/.test(document.querySelector('#message')!.textContent ?? ''));
    await page.waitForFunction(() => document.querySelector('#gap')!.textContent === '0');
    expect(await text('#message')).toBe('Reconciled: 30 issued in PostgreSQL, stock gap 0.');

    // a coupon used at checkout shows as redeemed beside the issued
    // one of the latest (the page lists the newest issues)
    const winner = results.length - 1 - [...results].reverse().findIndex((r) => r.status === 201);
    const redeemed = await t.http('POST', '/issues/redeem', { token: users[winner].token, body: { code: results[winner].body.code } });
    expect(redeemed.status).toBe(200);
    await page.waitForFunction(() => document.querySelector('#redeemed')!.textContent === '1');

    // the latest issues with their status; an unredeemed one is revoked from here and its unit comes back
    await page.click('#load-issues');
    await page.waitForSelector('#issues-panel', { state: 'visible' });
    const redeemedRow = page.locator(`#issues tbody tr[data-issue-id="${redeemed.body.issueId}"]`);
    expect(await redeemedRow.locator('td').nth(4).innerText()).toBe('REDEEMED');
    expect(await redeemedRow.locator('button').count()).toBe(0);
    const target = page.locator('#issues tbody tr', { has: page.locator('button') }).first();
    const issueId = Number(await target.getAttribute('data-issue-id'));
    expect(await target.locator('td').nth(4).innerText()).toBe('ISSUED');
    await target.locator('button').click();
    await page.waitForFunction(() => /^Revoked issue/.test(document.querySelector('#message')!.textContent ?? ''));
    await page.waitForFunction(() => document.querySelector('#cancelled')!.textContent === '1');
    await page.waitForFunction(() => document.querySelector('#remaining')!.textContent === '6');
    expect(await page.locator(`#issues tbody tr[data-issue-id="${issueId}"]`).count()).toBe(0);
    expect((await t.sql.query('SELECT reason FROM coupon_issue_cancellations WHERE issue_id = $1', [issueId])).rows).toEqual([{ reason: 'REVOKED' }]);
    expect(cspViolations).toEqual([]);
  });
});

/**
 * Looks at the screenshot itself, not the DOM: the chart's box must hold the blue line, above its
 * baseline (issues per second rose), and the SOLD OUT badge's box must be red.
 */
async function looksSoldOutWithAChart(browser: Browser, page: Page): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.evaluate(() => window.scrollTo(0, 0));
  const png = await page.screenshot();
  writeFileSync(join(ARTIFACTS, 'admin-page.png'), png);
  const chart = (await page.locator('#chart').boundingBox())!;
  const badge = (await page.locator('#sold-out').boundingBox())!;
  const viewer = await browser.newPage();
  try {
    await viewer.setContent('<canvas id="c"></canvas>');
    const counts = await viewer.evaluate(
      async ({ dataUrl, chart, badge }) => {
        const image = new Image();
        image.src = dataUrl;
        await image.decode();
        const canvas = document.getElementById('c') as HTMLCanvasElement;
        canvas.width = image.width;
        canvas.height = image.height;
        const ctx = canvas.getContext('2d')!;
        ctx.drawImage(image, 0, 0);
        const count = (box: { x: number; y: number; width: number; height: number }, near: [number, number, number]) => {
          const { data } = ctx.getImageData(Math.round(box.x), Math.round(box.y), Math.round(box.width), Math.round(box.height));
          let n = 0;
          for (let i = 0; i < data.length; i += 4) {
            if (Math.abs(data[i] - near[0]) + Math.abs(data[i + 1] - near[1]) + Math.abs(data[i + 2] - near[2]) < 60) n++;
          }
          return n;
        };
        const upperHalf = { ...chart, height: chart.height / 2 };
        return { lineAbove: count(upperHalf, [37, 99, 235]), line: count(chart, [37, 99, 235]), badgeRed: count(badge, [220, 38, 38]) };
      },
      { dataUrl: `data:image/png;base64,${png.toString('base64')}`, chart, badge },
    );
    expect(counts.line).toBeGreaterThan(50);
    expect(counts.lineAbove).toBeGreaterThan(5);
    expect(counts.badgeRed).toBeGreaterThan((badge.width * badge.height) / 3);
  } finally {
    await viewer.close();
  }
}
