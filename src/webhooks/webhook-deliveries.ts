import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { EventRow } from '../events/event.view';

/** A delivery claimed by this process for a while (its lease), with what it needs to be sent. */
export interface ClaimedDelivery extends EventRow {
  webhook_id: number;
  event_id: number;
  attempts: number;
  url: string;
  secret: string;
}

/** A claimed delivery not finished by then (its process killed) is claimed again after this. */
const LEASE = `interval '15 seconds'`;
/** Retries go on this long after the event (the contract: at least a day). */
const GIVE_UP_AFTER = `interval '3 days'`;

/** Each new event an endpoint wants becomes its delivery, in one statement (a snapshot: nothing fanned out twice or skipped). */
const FAN_OUT_SQL = `
  WITH upto AS (SELECT coalesce(max(position), 0) AS position FROM coupon_events),
  fanned AS (
    INSERT INTO webhook_deliveries (webhook_id, event_id)
    SELECT w.id, e.position FROM webhooks w JOIN coupon_events e ON e.position > w.fanned_through AND e.type = ANY(w.events)
     WHERE e.position <= (SELECT position FROM upto)
    ON CONFLICT DO NOTHING
  )
  UPDATE webhooks SET fanned_through = (SELECT position FROM upto) WHERE fanned_through < (SELECT position FROM upto)`;

const CLAIM_SQL = `
  WITH due AS (
    SELECT webhook_id, event_id FROM webhook_deliveries
     WHERE delivered_at IS NULL AND given_up_at IS NULL AND next_at <= now() AND (lease_until IS NULL OR lease_until < now())
     ORDER BY next_at, event_id LIMIT $1 FOR UPDATE SKIP LOCKED
  )
  UPDATE webhook_deliveries d SET lease_until = now() + ${LEASE}, attempts = d.attempts + 1
    FROM due, webhooks w, coupon_events e
   WHERE d.webhook_id = due.webhook_id AND d.event_id = due.event_id AND w.id = d.webhook_id AND e.position = d.event_id
  RETURNING d.webhook_id, d.event_id, d.attempts, w.url, w.secret,
            e.position, e.type, e.occurred_at, e.coupon_id, e.user_id, e.issue_id, e.code, e.order_ref`;

/** The delivery state in PostgreSQL: fanned out, claimed under a lease, finished or put off. */
@Injectable()
export class WebhookDeliveries {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async fanOut(): Promise<void> {
    await this.db.query(FAN_OUT_SQL);
  }

  async claim(atMost: number): Promise<ClaimedDelivery[]> {
    const [rows] = await this.db.query<[ClaimedDelivery[], number]>(CLAIM_SQL, [atMost]);
    return rows;
  }

  /** The attempt's outcome: delivered (a 2xx), or put off by `retryInMs` (given up past three days). */
  async finish(d: ClaimedDelivery, outcome: { status?: number; error?: string }, retryInMs: number): Promise<void> {
    const delivered = outcome.status !== undefined && outcome.status >= 200 && outcome.status < 300;
    await this.db.transaction(async (tx) => {
      await tx.query(`INSERT INTO webhook_attempts (webhook_id, event_id, attempt, status, error) VALUES ($1, $2, $3, $4, $5)`, [
        d.webhook_id,
        d.event_id,
        d.attempts,
        outcome.status ?? null,
        outcome.error?.slice(0, 500) ?? null,
      ]);
      if (delivered) {
        await tx.query(`UPDATE webhook_deliveries SET delivered_at = now(), lease_until = NULL WHERE webhook_id = $1 AND event_id = $2`, [
          d.webhook_id,
          d.event_id,
        ]);
      } else {
        await tx.query(
          `UPDATE webhook_deliveries SET lease_until = NULL, next_at = now() + make_interval(secs => $3::float8 / 1000),
                  given_up_at = CASE WHEN created_at < now() - ${GIVE_UP_AFTER} THEN now() END
            WHERE webhook_id = $1 AND event_id = $2`,
          [d.webhook_id, d.event_id, retryInMs],
        );
      }
    });
  }
}
