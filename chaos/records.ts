import { Client } from 'pg';
import { epochMs } from '../src/database/sql-time';
import type { Violation } from './check';

/**
 * What PostgreSQL holds of the users a violation names, read before the run's database goes: their
 * row, every cancellation (with the stamp of the request it took back), their withdrawal on record,
 * and their events. The history says what the clients saw; this says what the service did.
 */
export async function recordsOf(databaseUrl: string, violations: Violation[]): Promise<string[]> {
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  const ms = (column: string) => `${epochMs(column)} AS ${column}`;
  const queries: [string, string][] = [
    ['row', `SELECT id, request_stamp, ${ms('issued_at')}, redeemed_at IS NOT NULL AS redeemed FROM coupon_issues WHERE coupon_id = $1 AND user_id = $2`],
    [
      'cancelled',
      `SELECT issue_id, request_stamp, reason, ${ms('issued_at')}, ${ms('cancelled_at')} FROM coupon_issue_cancellations WHERE coupon_id = $1 AND user_id = $2 ORDER BY cancelled_at`,
    ],
    ['withdrawal', `SELECT ${ms('withdrawn_at')} FROM coupon_withdrawals WHERE coupon_id = $1 AND user_id = $2`],
    ['event', `SELECT id, type, issue_id, ${ms('occurred_at')} FROM coupon_events WHERE coupon_id = $1 AND user_id = $2 ORDER BY id`],
  ];
  const lines: string[] = [];
  try {
    const pairs = new Map(violations.filter((v) => v.couponId !== undefined && v.userId !== undefined).map((v) => [`${v.couponId}:${v.userId}`, v]));
    for (const v of [...pairs.values()].slice(0, 5)) {
      lines.push(`coupon ${v.couponId} user ${v.userId} in PostgreSQL:`);
      for (const [what, sql] of queries) for (const row of (await db.query(sql, [v.couponId, v.userId])).rows) lines.push(`  ${what} ${JSON.stringify(row)}`);
    }
  } finally {
    await db.end();
  }
  return lines;
}
