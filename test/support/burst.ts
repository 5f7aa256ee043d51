import type { LoadTestUser } from '../../load/load-test-users';
import { until } from '../../servers/until';
import type { Attempt } from './history';
import type { HttpRequest } from './http';

/** The tests' one wait on a condition, from servers/ (the bench and the checker use it too). */
export { until };

export type TimedAttempt = Attempt & { ms: number; token: string; body?: any };

/**
 * Every user asks for the coupon at once (one request each, truly concurrent), and every answer
 * is kept as the client saw it: status 0 when none came (refused, reset, timed out).
 */
export function fire(http: HttpRequest, couponId: number, users: LoadTestUser[]): Promise<TimedAttempt[]> {
  return Promise.all(
    users.map(async ({ userId, token }) => {
      const started = performance.now();
      try {
        const res = await http('POST', `/coupons/${couponId}/issue`, { token });
        return { userId, token, status: res.status, code: res.body?.code, body: res.body, ms: res.ms };
      } catch {
        return { userId, token, status: 0, ms: performance.now() - started };
      }
    }),
  );
}

/** Polls GET /coupons/:id/issue until the request is no longer PENDING; its last answer. */
export async function untilSettled(http: HttpRequest, couponId: number, token: string, timeoutMs = 30_000): Promise<any> {
  return until(
    async () => {
      const { body } = await http('GET', `/coupons/${couponId}/issue`, { token });
      return body.status === 'PENDING' ? undefined : body;
    },
    { timeoutMs, what: `coupon ${couponId}'s request to settle` },
  );
}
