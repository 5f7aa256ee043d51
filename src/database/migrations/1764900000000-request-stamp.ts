import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The request a row was written for (`queue`): its stamp on the coupon's Redis clock (ms), copied
 * into the cancellation when the row is given back or revoked. A row made again for a request
 * already given back (a job redelivered after its give-back) is known by that stamp, not by
 * comparing times from PostgreSQL's clock with Redis'. Null for rows written without a queued
 * request (`pessimistic`, `redis`).
 */
export class RequestStamp1764900000000 implements MigrationInterface {
  name = 'RequestStamp1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE coupon_issues ADD COLUMN request_stamp bigint`);
    await q.query(`ALTER TABLE coupon_issue_cancellations ADD COLUMN request_stamp bigint`);
    await q.query(`CREATE INDEX coupon_issue_cancellations_request_idx ON coupon_issue_cancellations (coupon_id, user_id, request_stamp)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX coupon_issue_cancellations_request_idx`);
    await q.query(`ALTER TABLE coupon_issue_cancellations DROP COLUMN request_stamp`);
    await q.query(`ALTER TABLE coupon_issues DROP COLUMN request_stamp`);
  }
}
