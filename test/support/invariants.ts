import type { Pool } from 'pg';

export interface CouponFacts {
  total: number;
  counter: number;
  rows: number;
  duplicateHolders: number;
  holders: Set<number>;
}

/** What PostgreSQL says about a coupon, read behind the API's back. */
export async function couponFacts(sql: Pool, couponId: number): Promise<CouponFacts> {
  const {
    rows: [coupon],
  } = await sql.query('SELECT total_quantity, issued_quantity FROM coupons WHERE id = $1', [couponId]);
  const { rows: issues } = await sql.query<{ user_id: number }>('SELECT user_id FROM coupon_issues WHERE coupon_id = $1', [couponId]);
  const holders = new Set(issues.map((r) => r.user_id));
  return {
    total: coupon.total_quantity,
    counter: coupon.issued_quantity,
    rows: issues.length,
    duplicateHolders: issues.length - holders.size,
    holders,
  };
}

/** The coupon's own invariants: rows <= total, one row per holder, counter = rows. */
export function expectCouponInvariants(facts: CouponFacts): void {
  expect(facts.rows).toBeLessThanOrEqual(facts.total);
  expect(facts.duplicateHolders).toBe(0);
  expect(facts.counter).toBe(facts.rows);
}

/** The coupon's invariants, and exactly these users hold it. */
export async function expectHolders(sql: Pool, couponId: number, holders: Set<number>): Promise<CouponFacts> {
  const facts = await couponFacts(sql, couponId);
  expectCouponInvariants(facts);
  expect([...facts.holders].sort()).toEqual([...holders].sort());
  return facts;
}

/** Counts answers by status, e.g. { 201: 100, 409: 200 }. */
export const countStatuses = (results: { status: number }[]) =>
  results.reduce<Record<number, number>>((acc, r) => ({ ...acc, [r.status]: (acc[r.status] ?? 0) + 1 }), {});
