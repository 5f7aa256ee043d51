import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A coupon's life after issuance: how long an issue can be redeemed (valid_days after it was
 * issued, and never past redeem_until), and its one redemption. A redemption is written once: the
 * conditional UPDATE that sets redeemed_at is what decides it (see issuance/redemption.ts).
 * Given-back and revoked issues leave coupon_issues (so UNIQUE (coupon_id, user_id) and the
 * counter hold as they are) and are kept in coupon_issue_cancellations for the history.
 */
export class CouponLifecycle1764100000000 implements MigrationInterface {
  name = 'CouponLifecycle1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE coupons
        ADD COLUMN valid_days   integer CONSTRAINT coupons_valid_days_check CHECK (valid_days > 0),
        ADD COLUMN redeem_until timestamptz`);
    await q.query(`
      ALTER TABLE coupon_issues
        ADD COLUMN redeemed_at timestamptz,
        ADD COLUMN order_ref   text CONSTRAINT coupon_issues_order_ref_check CHECK (length(order_ref) BETWEEN 1 AND 200),
        ADD CONSTRAINT coupon_issues_redeemed_check CHECK (order_ref IS NULL OR redeemed_at IS NOT NULL)`);
    await q.query(`
      CREATE TABLE coupon_issue_cancellations (
        issue_id     bigint PRIMARY KEY,
        coupon_id    integer NOT NULL,
        user_id      integer NOT NULL,
        code         text NOT NULL,
        issued_at    timestamptz NOT NULL,
        cancelled_at timestamptz NOT NULL DEFAULT now(),
        reason       text NOT NULL CONSTRAINT coupon_issue_cancellations_reason_check CHECK (reason IN ('GIVEN_BACK', 'REVOKED'))
      )`);
    await q.query(`CREATE INDEX coupon_issue_cancellations_coupon_id_idx ON coupon_issue_cancellations (coupon_id, issue_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE coupon_issue_cancellations`);
    await q.query(`ALTER TABLE coupon_issues DROP CONSTRAINT coupon_issues_redeemed_check, DROP COLUMN order_ref, DROP COLUMN redeemed_at`);
    await q.query(`ALTER TABLE coupons DROP COLUMN redeem_until, DROP COLUMN valid_days`);
  }
}
