import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Events get their feed position once committed, whatever other transactions are open
 * (EventFeed): the writing transaction's id, which placing compared with the oldest open one,
 * is no longer read.
 */
export class EventsPlacedOnCommit1765400000000 implements MigrationInterface {
  name = 'EventsPlacedOnCommit1765400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE coupon_events DROP COLUMN tx`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE coupon_events ADD COLUMN tx xid8 NOT NULL DEFAULT pg_current_xact_id()`);
  }
}
