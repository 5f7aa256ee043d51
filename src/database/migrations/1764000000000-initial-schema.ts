import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The schema backs every invariant the code relies on: one issue per (coupon, user), unique
 * codes, and a counter that can never pass the total. Constraint names are referenced in code
 * (postgres-errors mapping), so they are spelled out.
 */
export class InitialSchema1764000000000 implements MigrationInterface {
  name = 'InitialSchema1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE users (
        id            serial PRIMARY KEY,
        email         text NOT NULL CONSTRAINT users_email_key UNIQUE,
        password_hash text NOT NULL,
        name          text,
        role          text NOT NULL DEFAULT 'user' CONSTRAINT users_role_check CHECK (role IN ('user', 'admin')),
        created_at    timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE coupons (
        id              serial PRIMARY KEY,
        name            text NOT NULL,
        total_quantity  integer NOT NULL CONSTRAINT coupons_total_quantity_check CHECK (total_quantity >= 0),
        issued_quantity integer NOT NULL DEFAULT 0,
        starts_at       timestamptz,
        ends_at         timestamptz,
        status          text NOT NULL DEFAULT 'ACTIVE' CONSTRAINT coupons_status_check CHECK (status IN ('ACTIVE', 'PAUSED', 'ENDED')),
        created_at      timestamptz NOT NULL DEFAULT now(),
        updated_at      timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT coupons_issued_within_total CHECK (issued_quantity >= 0 AND issued_quantity <= total_quantity),
        CONSTRAINT coupons_window_check CHECK (starts_at IS NULL OR ends_at IS NULL OR starts_at < ends_at)
      )`);
    await q.query(`
      CREATE TABLE coupon_issues (
        id        bigserial PRIMARY KEY,
        coupon_id integer NOT NULL CONSTRAINT coupon_issues_coupon_fk REFERENCES coupons(id) ON DELETE RESTRICT,
        user_id   integer NOT NULL CONSTRAINT coupon_issues_user_fk REFERENCES users(id) ON DELETE RESTRICT,
        code      text NOT NULL CONSTRAINT coupon_issues_code_key UNIQUE,
        issued_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT coupon_issues_coupon_user_key UNIQUE (coupon_id, user_id)
      )`);
    // Paging a coupon's history and a user's own coupons, newest first.
    await q.query(`CREATE INDEX coupon_issues_coupon_id_idx ON coupon_issues (coupon_id, id)`);
    await q.query(`CREATE INDEX coupon_issues_user_id_idx ON coupon_issues (user_id, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE coupon_issues`);
    await q.query(`DROP TABLE coupons`);
    await q.query(`DROP TABLE users`);
  }
}
