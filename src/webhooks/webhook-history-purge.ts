import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { RepeatingPass } from '../common/repeating-pass';

/** A finished delivery and every attempt are shown (GET /webhooks/:id/deliveries) this long, then purged. */
export const WEBHOOK_HISTORY_KEPT_DAYS = 30;
const KEPT_FOR = `interval '${WEBHOOK_HISTORY_KEPT_DAYS} days'`;
const PURGE_EVERY_MS = 60 * 60_000;
/** Rows one statement deletes at most: each a short transaction, however far behind the purge is. */
const PER_STATEMENT = 5000;

/**
 * One endpoint's history, oldest first along its keys (attempt ids and feed positions grow with
 * time), so each statement reads only the rows it may delete: the first row still kept ends the
 * turn until the next pass.
 */
const PURGE_ATTEMPTS_SQL = `
  DELETE FROM webhook_attempts WHERE webhook_id = $1
     AND id IN (SELECT id FROM webhook_attempts WHERE webhook_id = $1 ORDER BY id LIMIT ${PER_STATEMENT})
     AND at < now() - ${KEPT_FOR}`;
/** A delivery still being retried is not finished, and stays (retries end within three days, given up). */
const PURGE_DELIVERIES_SQL = `
  DELETE FROM webhook_deliveries WHERE webhook_id = $1
     AND event_id IN (SELECT event_id FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY event_id LIMIT ${PER_STATEMENT})
     AND coalesce(delivered_at, given_up_at) < now() - ${KEPT_FOR}`;

/**
 * Keeps the delivery history from growing for ever: one row per event and endpoint, and one per
 * attempt. Runs hourly beside the dispatcher; processes that purge at once only delete the same
 * rows twice. Events themselves stay (the feed is read from any position).
 */
@Injectable()
export class WebhookHistoryPurge implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WebhookHistoryPurge.name);
  private readonly passes = new RepeatingPass(
    PURGE_EVERY_MS,
    async () => void (await this.purge()),
    (error) => this.logger.warn(`webhook history purge: ${error.message}`),
  );

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  onApplicationBootstrap(): void {
    this.passes.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.passes.stop();
  }

  /** Deletes what is past its time; returns how many attempts and deliveries went. */
  async purge(): Promise<{ attempts: number; deliveries: number }> {
    const purged = { attempts: 0, deliveries: 0 };
    for (const { id } of await this.db.query<{ id: number }[]>(`SELECT id FROM webhooks`)) {
      purged.attempts += await this.drain(PURGE_ATTEMPTS_SQL, id);
      purged.deliveries += await this.drain(PURGE_DELIVERIES_SQL, id);
    }
    return purged;
  }

  /** Runs a purge statement until it deletes less than a full batch. */
  private async drain(sql: string, webhookId: number): Promise<number> {
    let total = 0;
    for (;;) {
      const [, deleted] = await this.db.query<[unknown[], number]>(sql, [webhookId]);
      total += deleted;
      if (deleted < PER_STATEMENT) return total;
    }
  }
}
