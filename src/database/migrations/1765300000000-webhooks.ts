import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Webhook endpoints and their deliveries, all in PostgreSQL so that delivery survives any process
 * being killed: each event an endpoint wants becomes a delivery row (fanned out once, in feed
 * order, past `fanned_through`), claimed for a while by one process at a time (`lease_until`),
 * and retried until a 2xx (`delivered_at`) or three days. Every attempt is kept for
 * GET /webhooks/:id/deliveries.
 */
export class Webhooks1765300000000 implements MigrationInterface {
  name = 'Webhooks1765300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE webhooks (
        id             serial PRIMARY KEY,
        url            text NOT NULL,
        events         text[] NOT NULL CONSTRAINT webhooks_events_check CHECK (cardinality(events) > 0),
        secret         text NOT NULL,
        created_at     timestamptz NOT NULL DEFAULT now(),
        fanned_through bigint NOT NULL
      )`);
    await q.query(`
      CREATE TABLE webhook_deliveries (
        webhook_id   integer NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
        event_id     bigint NOT NULL,
        attempts     integer NOT NULL DEFAULT 0,
        next_at      timestamptz NOT NULL DEFAULT now(),
        lease_until  timestamptz,
        delivered_at timestamptz,
        given_up_at  timestamptz,
        created_at   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (webhook_id, event_id)
      )`);
    await q.query(`CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_at) WHERE delivered_at IS NULL AND given_up_at IS NULL`);
    await q.query(`
      CREATE TABLE webhook_attempts (
        id         bigserial PRIMARY KEY,
        webhook_id integer NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
        event_id   bigint NOT NULL,
        attempt    integer NOT NULL,
        status     integer,
        error      text,
        at         timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX webhook_attempts_webhook_idx ON webhook_attempts (webhook_id, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE webhook_attempts`);
    await q.query(`DROP TABLE webhook_deliveries`);
    await q.query(`DROP TABLE webhooks`);
  }
}
