import { IssuanceStrategy } from '../../src/issuance/strategies/issuance.strategy';
import { ReservationRebuild } from '../../src/issuance/reservation/reservation-rebuild';
import { countStatuses } from '../support/invariants';
import { startTestApp, TestApp } from '../support/test-app';

/** Finding 9 of #14: reads that cost queries are bounded, per user, per process, per coupon. */
describe('bounded reads (redis strategy)', () => {
  let t: TestApp;
  let admin: string;

  beforeAll(async () => {
    t = await startTestApp('redis', { RATE_LIMIT_READ_PER_SECOND: '5', RATE_LIMIT_ISSUE_PER_SECOND: '0' });
    admin = await t.adminToken();
  });
  afterAll(() => t.close());

  it('polls and lists are limited per user (429 with Retry-After); another user and admins are not held up', async () => {
    const id = await t.createCoupon(admin, 10, 'polled');
    const [poller, other] = await t.users(2);
    expect((await t.http('POST', `/coupons/${id}/issue`, { token: poller.token })).status).toBe(201);
    const polls = await Promise.all(Array.from({ length: 8 }, () => t.http('GET', `/coupons/${id}/issue`, { token: poller.token })));
    expect(countStatuses(polls)[429]).toBeGreaterThanOrEqual(3);
    const limited = polls.find((p) => p.status === 429)!;
    expect(limited.body.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    for (const path of ['/coupons', `/coupons/${id}`, '/users/me/coupons']) {
      const answers = await Promise.all(Array.from({ length: 8 }, () => t.http('GET', path, { token: other.token })));
      expect(countStatuses(answers)[429]).toBeGreaterThanOrEqual(1);
    }
    const stats = await Promise.all(Array.from({ length: 12 }, () => t.http('GET', `/coupons/${id}/stats`, { token: admin })));
    expect(countStatuses(stats)).toEqual({ 200: 12 });
  });

  it('readiness asked 50 times at once runs its probes once, and is answered from a result at most a second old', async () => {
    const strategy = t.app.get(IssuanceStrategy);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // past any earlier check's result
    const probes = jest.spyOn(strategy, 'dependencies');
    try {
      const answers = await Promise.all(Array.from({ length: 50 }, () => t.http('GET', '/health/ready')));
      expect(countStatuses(answers)).toEqual({ 200: 50 });
      expect(probes).toHaveBeenCalledTimes(1);
    } finally {
      probes.mockRestore();
    }
  });

  it('requests for a coupon with no Redis state (one that does not exist) share one rebuild per wave', async () => {
    const rebuilder = t.app.get(ReservationRebuild, { strict: false });
    const rebuilds = jest.spyOn(rebuilder as unknown as { load: () => Promise<void> }, 'load');
    try {
      const users = await t.users(40);
      const answers = await Promise.all(users.map((u) => t.http('POST', '/coupons/999999999/issue', { token: u.token })));
      expect(countStatuses(answers)).toEqual({ 404: 40 });
      expect(rebuilds.mock.calls.length).toBeLessThanOrEqual(4);
    } finally {
      rebuilds.mockRestore();
    }
  });
});
