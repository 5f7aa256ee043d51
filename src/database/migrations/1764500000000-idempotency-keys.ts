import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Idempotency-Key on POST /coupons/:id/issue: the first answer to a key, per user and coupon, kept
 * 24 hours, so a repeat gets it again whatever happened since (issuance/idempotency-keys.ts).
 * `status` is NULL while the first request is being answered (a claim), 0 when its outcome was
 * unknown (a 503: the next attempt is a retry of it), else the HTTP status given. No foreign keys:
 * an answer outlives the coupon or user it was about, for its 24 hours.
 */
export class IdempotencyKeys1764500000000 implements MigrationInterface {
  name = 'IdempotencyKeys1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE idempotency_keys (
        user_id    integer NOT NULL,
        coupon_id  integer NOT NULL,
        key        text NOT NULL CONSTRAINT idempotency_keys_key_check CHECK (length(key) BETWEEN 1 AND 255),
        status     smallint,
        body       jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, coupon_id, key)
      )`);
    await q.query(`CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE idempotency_keys`);
  }
}
