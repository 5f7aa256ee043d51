import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A withdrawn request (queue: DELETE /coupons/:id/issue while pending) recorded in PostgreSQL
 * before its 204, so that a worker writing the request later takes the row back even when Redis
 * has lost its own mark of the withdrawal (emptied, or restarted without it). One row per user and
 * coupon: the latest withdrawal, which a worker compares with when the request it writes was made.
 * No foreign key: its check would lock the coupon's row, and a withdrawal must not wait on a write.
 */
export class Withdrawals1764600000000 implements MigrationInterface {
  name = 'Withdrawals1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE coupon_withdrawals (
        coupon_id    integer NOT NULL,
        user_id      integer NOT NULL,
        withdrawn_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (coupon_id, user_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE coupon_withdrawals`);
  }
}
