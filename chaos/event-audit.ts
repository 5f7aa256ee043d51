import type { Client } from 'pg';

/** An issue whose changes and events disagree. */
export interface EventMismatch {
  what: string;
  couponId: number;
  userId: number;
  issueId: number;
}

/**
 * The outbox's promise, read from the final state: no change without its event, no event without
 * its change. Every issue ever made (a row now, or a cancellation's) has one `issue.issued`; a row
 * still held has no ending event; each cancellation has one ending event; an issued event whose
 * issue is gone was ended (a re-created row removed again ends with an event and no second
 * record); a redeemed row has one `issue.redeemed`, and only a redeemed row has one.
 */
const MISMATCHES_SQL = `
  WITH issued AS (SELECT issue_id, count(*) AS n FROM coupon_events WHERE type = 'issue.issued' GROUP BY issue_id),
       ended AS (SELECT issue_id, count(*) AS n FROM coupon_events WHERE type IN ('issue.given_back', 'issue.revoked') GROUP BY issue_id),
       redeemed AS (SELECT issue_id, count(*) AS n FROM coupon_events WHERE type = 'issue.redeemed' GROUP BY issue_id)
  SELECT 'a row without exactly one issued event' AS what, i.coupon_id, i.user_id, i.id AS issue_id
    FROM coupon_issues i LEFT JOIN issued e ON e.issue_id = i.id WHERE coalesce(e.n, 0) <> 1
  UNION ALL
  SELECT 'a row still held, with an ending event', i.coupon_id, i.user_id, i.id FROM coupon_issues i JOIN ended x ON x.issue_id = i.id
  UNION ALL
  SELECT 'a cancellation without exactly one issued and one ending event', c.coupon_id, c.user_id, c.issue_id
    FROM coupon_issue_cancellations c LEFT JOIN issued e ON e.issue_id = c.issue_id LEFT JOIN ended x ON x.issue_id = c.issue_id
   WHERE coalesce(e.n, 0) <> 1 OR coalesce(x.n, 0) <> 1
  UNION ALL
  SELECT 'an issued event of an issue neither held nor ended', ev.coupon_id, ev.user_id, ev.issue_id
    FROM coupon_events ev WHERE ev.type = 'issue.issued'
     AND NOT EXISTS (SELECT 1 FROM coupon_issues i WHERE i.id = ev.issue_id) AND NOT EXISTS (SELECT 1 FROM ended x WHERE x.issue_id = ev.issue_id)
  UNION ALL
  SELECT 'a redemption and its events disagree', i.coupon_id, i.user_id, i.id
    FROM coupon_issues i LEFT JOIN redeemed r ON r.issue_id = i.id
   WHERE coalesce(r.n, 0) <> (CASE WHEN i.redeemed_at IS NULL THEN 0 ELSE 1 END)`;

export async function eventMismatches(db: Client): Promise<EventMismatch[]> {
  const { rows } = await db.query<{ what: string; coupon_id: number; user_id: number; issue_id: string }>(MISMATCHES_SQL);
  return rows.map((r) => ({ what: r.what, couponId: r.coupon_id, userId: r.user_id, issueId: Number(r.issue_id) }));
}
