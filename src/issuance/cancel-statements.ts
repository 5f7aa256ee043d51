/** The statements that take issues back (IssueCanceller), each with its events (coupon_events). */

/** The event of an issue taken back, by the cancellation's reason. */
const endedEventType = (reason: string) => `CASE ${reason} WHEN 'REVOKED' THEN 'issue.revoked' ELSE 'issue.given_back' END`;

/**
 * One statement for a batch of cancellations of one coupon: the unredeemed issues leave
 * coupon_issues, are recorded in coupon_issue_cancellations (and their events in coupon_events),
 * and the counter goes down by exactly the rows that left. `redeemed_at IS NULL` is re-checked on
 * the row as committed (READ COMMITTED re-evaluates a waiting DELETE), so a redemption and a
 * give-back of one issue never both win.
 */
export const CANCEL_SQL = `
  WITH asked AS (
    SELECT * FROM unnest($2::int[], $3::bigint[], $4::text[]) AS a(user_id, issue_id, reason)
  ), gone AS (
    DELETE FROM coupon_issues i USING asked a
     WHERE i.coupon_id = $1 AND i.user_id = a.user_id AND (a.issue_id IS NULL OR i.id = a.issue_id) AND i.redeemed_at IS NULL
    RETURNING i.id, i.coupon_id, i.user_id, i.code, i.issued_at, i.request_stamp, a.reason
  ), logged AS (
    INSERT INTO coupon_issue_cancellations (issue_id, coupon_id, user_id, code, issued_at, request_stamp, reason)
    SELECT id, coupon_id, user_id, code, issued_at, request_stamp, reason FROM gone
  ), recorded AS (
    INSERT INTO coupon_events (type, coupon_id, user_id, issue_id, code)
    SELECT ${endedEventType('reason')}, coupon_id, user_id, id, code FROM gone
  ), counted AS (
    UPDATE coupons SET issued_quantity = issued_quantity - (SELECT count(*) FROM gone), updated_at = now()
     WHERE id = $1 AND EXISTS (SELECT 1 FROM gone)
  )
  SELECT id, user_id FROM gone`;

/**
 * A re-created, unredeemed row leaves, and the counter with it (its give-back is recorded already).
 * Only the row of that request (`$3`, its stamp; null: `redis`, whose rows carry none): a newer
 * request's row, committed meanwhile, stays. The row had its own issued event, so its leaving has
 * one too, of the same kind as the give-back or revocation it repeats: every issue a consumer saw
 * issued, it sees end.
 */
export const REMOVE_RECREATED_SQL = `
  WITH gone AS (
    DELETE FROM coupon_issues WHERE coupon_id = $1 AND user_id = $2 AND redeemed_at IS NULL AND ($3::bigint IS NULL OR request_stamp = $3)
    RETURNING id, code
  ),
  recorded AS (
    INSERT INTO coupon_events (type, coupon_id, user_id, issue_id, code)
    SELECT (SELECT ${endedEventType('reason')} FROM coupon_issue_cancellations
             WHERE coupon_id = $1 AND user_id = $2 ORDER BY cancelled_at DESC, issue_id DESC LIMIT 1), $1, $2, id, code FROM gone
  )
  UPDATE coupons SET issued_quantity = issued_quantity - (SELECT count(*) FROM gone), updated_at = now()
   WHERE id = $1 AND EXISTS (SELECT 1 FROM gone)`;

/** What is left of the users' issues after the statement (a fresh snapshot): why the rest were refused. */
export const LEFT_SQL = `SELECT id, user_id, redeemed_at IS NOT NULL AS redeemed FROM coupon_issues WHERE coupon_id = $1 AND user_id = ANY($2::int[])`;
