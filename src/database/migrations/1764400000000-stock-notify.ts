import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * "Stock of coupon N may be back", announced by PostgreSQL itself: NOTIFY coupon_stock, N when
 * rows leave coupon_issues (give-backs, revocations, by the API or by hand), when a coupon's
 * total, status or window changes or its counter goes down, and when a coupon is deleted. A
 * notification is delivered at commit, so whoever hears it finds the change made. API processes
 * of the `pessimistic` strategy LISTEN, and drop their in-process sold-out flag for N
 * (sold-out/postgres-stock-signal.ts). Identical notifications of one transaction are delivered once.
 */
export class StockNotify1764400000000 implements MigrationInterface {
  name = 'StockNotify1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION coupon_issues_notify_stock() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('coupon_stock', coupon_id::text) FROM (SELECT DISTINCT coupon_id FROM gone) AS g;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER coupon_issues_gone_notify_stock AFTER DELETE ON coupon_issues
        REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION coupon_issues_notify_stock()`);
    await q.query(`
      CREATE FUNCTION coupons_notify_stock() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('coupon_stock', OLD.id::text);
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER coupons_change_notify_stock AFTER UPDATE ON coupons FOR EACH ROW
        WHEN (OLD.total_quantity IS DISTINCT FROM NEW.total_quantity OR OLD.status IS DISTINCT FROM NEW.status
              OR OLD.starts_at IS DISTINCT FROM NEW.starts_at OR OLD.ends_at IS DISTINCT FROM NEW.ends_at
              OR NEW.issued_quantity < OLD.issued_quantity)
        EXECUTE FUNCTION coupons_notify_stock()`);
    await q.query(`CREATE TRIGGER coupons_delete_notify_stock AFTER DELETE ON coupons FOR EACH ROW EXECUTE FUNCTION coupons_notify_stock()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER coupons_delete_notify_stock ON coupons`);
    await q.query(`DROP TRIGGER coupons_change_notify_stock ON coupons`);
    await q.query(`DROP FUNCTION coupons_notify_stock()`);
    await q.query(`DROP TRIGGER coupon_issues_gone_notify_stock ON coupon_issues`);
    await q.query(`DROP FUNCTION coupon_issues_notify_stock()`);
  }
}
