import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A coupon's version, moved on by every admin change (TypeORM's version column): Redis applies a
 * change's coupon fields only if they are not older than those it holds, so two PATCHes whose
 * Redis steps arrive out of order leave the later one standing (update-meta.lua).
 */
export class CouponVersion1764800000000 implements MigrationInterface {
  name = 'CouponVersion1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE coupons ADD COLUMN version integer NOT NULL DEFAULT 1`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE coupons DROP COLUMN version`);
  }
}
