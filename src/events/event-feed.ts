import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ADVISORY_LOCK } from '../database/advisory-locks';
import { EventRow } from './event.view';

/** Events placed by one run at most; the rest wait for the next. */
const PLACED_PER_RUN = 10_000;

/**
 * Gives positions to the events committed so far that have none, in one run at a time (the
 * advisory lock, held to commit), each above every position given before. Event ids are taken
 * when rows are inserted, not when they commit, so a feed read by id could hand out an event while
 * one with a smaller id was still to commit, and skip it; a position is given only to what has
 * committed, so an event that commits late simply comes later in the feed. What a reader sees is
 * always a prefix of the feed, nothing is placed behind a reader, and no transaction left open
 * elsewhere (a forgotten psql session) holds the feed back.
 */
const PLACE_SQL = `
  WITH placeable AS (
    SELECT id FROM coupon_events WHERE position IS NULL ORDER BY id LIMIT ${PLACED_PER_RUN}
  ), numbered AS (
    SELECT id, row_number() OVER (ORDER BY id) AS n FROM placeable
  ), last AS (
    SELECT coalesce(max(position), 0) AS position FROM coupon_events
  )
  UPDATE coupon_events e SET position = last.position + numbered.n FROM numbered, last WHERE e.id = numbered.id`;

const READ_SQL = `
  SELECT position, type, occurred_at, coupon_id, user_id, issue_id, code, order_ref
    FROM coupon_events WHERE position > $1 ORDER BY position LIMIT $2`;

/** The event feed (GET /events, the webhooks' source): every event once, in one order, none skipped. */
@Injectable()
export class EventFeed {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Places what can be placed now (unless another process is doing it), then reads after `after`. */
  async read(after: number, limit: number): Promise<EventRow[]> {
    await this.place();
    return this.db.query<EventRow[]>(READ_SQL, [after, limit]);
  }

  /**
   * One run of placing; skipped when another process runs one now (its events show next time),
   * unless `wait`: then after it, so that every event committed before the call has its position.
   */
  async place({ wait = false } = {}): Promise<void> {
    await this.db.transaction(async (tx) => {
      if (wait) await tx.query(`SELECT pg_advisory_xact_lock(${ADVISORY_LOCK.eventPositions})`);
      else {
        const [{ locked }] = await tx.query<{ locked: boolean }[]>(`SELECT pg_try_advisory_xact_lock(${ADVISORY_LOCK.eventPositions}) AS locked`);
        if (!locked) return;
      }
      await tx.query(PLACE_SQL);
    });
  }
}
