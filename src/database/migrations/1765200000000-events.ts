import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every issue, redemption, give-back and revocation, recorded by the statement that makes the
 * change (a transactional outbox: no change without its event, no event without its change).
 * `position`, the event's place in the feed (its public id), is given once the event has committed
 * (EventFeed), so a consumer following the feed never skips an event that committed late. (`tx`,
 * the writing transaction, went in 1765400000000.)
 */
export class Events1765200000000 implements MigrationInterface {
  name = 'Events1765200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE coupon_events (
        id          bigserial PRIMARY KEY,
        position    bigint CONSTRAINT coupon_events_position_key UNIQUE,
        tx          xid8 NOT NULL DEFAULT pg_current_xact_id(),
        type        text NOT NULL CONSTRAINT coupon_events_type_check
                      CHECK (type IN ('issue.issued', 'issue.redeemed', 'issue.given_back', 'issue.revoked')),
        occurred_at timestamptz NOT NULL DEFAULT now(),
        coupon_id   integer NOT NULL,
        user_id     integer NOT NULL,
        issue_id    bigint NOT NULL,
        code        text NOT NULL,
        order_ref   text
      )`);
    await q.query(`CREATE INDEX coupon_events_unplaced_idx ON coupon_events (id) WHERE position IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE coupon_events`);
  }
}
