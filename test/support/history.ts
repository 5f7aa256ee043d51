import type { Pool } from 'pg';
import { couponFacts, CouponFacts, expectCouponInvariants } from './invariants';

/** One request as the client saw it: status 0 when no answer came (refused, reset, timed out). */
export interface Attempt {
  userId: number;
  status: number;
  code?: string;
}

/** What each user was told, over all their attempts. */
function verdicts(attempts: Attempt[]) {
  const byUser = new Map<number, Attempt[]>();
  for (const a of attempts) byUser.set(a.userId, [...(byUser.get(a.userId) ?? []), a]);
  return [...byUser].map(([userId, seen]) => ({
    userId,
    yes: seen.some((a) => a.status === 201 || a.status === 202),
    holds: seen.some((a) => a.code === 'ALREADY_ISSUED'),
    unknown: seen.some((a) => a.status === 0 || a.status >= 500),
    refused: seen.some((a) => a.code === 'SOLD_OUT' || a.code === 'NOT_OPEN'),
  }));
}

/**
 * The invariants, checked from the client's history against PostgreSQL once idle:
 * rows <= total, one row per holder, counter = rows; every yes (201, or 202 since settled) and
 * every "you hold one" (409 ALREADY_ISSUED) has its row; a user who was only ever refused has
 * none; an unknown outcome (no answer, 5xx) may have gone either way.
 */
export async function expectHistoryHolds(sql: Pool, couponId: number, attempts: Attempt[]): Promise<CouponFacts> {
  const facts = await couponFacts(sql, couponId);
  expectCouponInvariants(facts);
  const wrong = verdicts(attempts).filter(({ userId, yes, holds, unknown, refused }) => {
    const has = facts.holders.has(userId);
    if ((yes || holds) && !has) return true;
    return !yes && !holds && !unknown && refused && has;
  });
  expect(wrong).toEqual([]);
  return facts;
}
