import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { unavailable } from '../common/errors/domain.error';
import { ItemResult, KeyedBatcher } from '../common/keyed-batcher';
import { isDatabaseUnavailable } from '../database/postgres-errors';
import { PreparedStatement } from '../database/prepared-statement';
import type { Role } from '../common/auth-user';

/** All lookups share one lane: concurrent requests are answered by one query. */
const LANE = 0;

/** How old a remembered answer may be and still stand in for PostgreSQL while it cannot be reached. */
const STAND_IN_FOR_MS = 10 * 60_000;
/** Answers remembered at most (the least recently confirmed go first): a few MB. */
const REMEMBERED_MAX = 100_000;

/** A user as the guard needs them now: their role, and the generation their tokens must carry. */
export interface UserNow {
  role: Role;
  /** Tokens signed with another generation (an earlier one: revoked since) are refused. */
  tokenGeneration: number;
}

/**
 * Who a token's user is now: their current role and token revocation, or null once they no longer exist. A token
 * outlives changes to its user (deleted, demoted), so the guard asks on every request. The
 * lookups of concurrent requests are group-committed into one `id = ANY($1)` query, so a burst
 * costs PostgreSQL a few indexed reads per flush, not one round trip per request.
 *
 * While PostgreSQL cannot be reached, the last answer it gave for a user (within STAND_IN_FOR_MS)
 * stands in for it. Users live only in PostgreSQL, so no change to them can be missed while it is
 * down, and a strategy that accepts without it (`queue`) keeps serving users it has seen. A user
 * never seen gets 503, as before.
 */
/** Users looked up by one query at most, and requests waiting for one at most (then 503). */
const LOOKUP_BATCH = 5000;
const LOOKUP_MAX_WAITING = 100_000;
/** Run for every batch of authenticated requests: prepared once per connection. */
const USERS_NOW = new PreparedStatement('users-now', 'SELECT id, role, token_generation FROM users WHERE id = ANY($1::int[])');

@Injectable()
export class UserLookup {
  private readonly batcher = new KeyedBatcher<number, number, UserNow | null>((_, ids) => this.read(ids), {
    maxBatch: LOOKUP_BATCH,
    maxQueued: LOOKUP_MAX_WAITING,
    overflow: () => unavailable('too many requests waiting for authentication'),
  });
  /** user id -> the last answer PostgreSQL gave, and when; in order of that answer (oldest first). */
  private readonly known = new Map<number, { user: UserNow | null; at: number }>();

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  current(userId: number): Promise<UserNow | null> {
    return this.batcher.submit(LANE, userId);
  }

  /** An answer PostgreSQL gave elsewhere (a log-in just read the user; a log-out just revoked). */
  remember(userId: number, user: UserNow | null, at = Date.now()): void {
    this.known.delete(userId); // re-inserted last: the Map's order is the order of confirmation
    this.known.set(userId, { user, at });
    if (this.known.size > REMEMBERED_MAX) this.known.delete(this.known.keys().next().value!);
  }

  private async read(ids: number[]): Promise<ItemResult<UserNow | null>[]> {
    let rows: { id: number; role: Role; token_generation: number }[];
    try {
      rows = await USERS_NOW.run(this.db.manager, [[...new Set(ids)]]);
    } catch (error) {
      if (!isDatabaseUnavailable(error)) throw error;
      return ids.map((id) => this.standIn(id, error as Error));
    }
    const users = new Map(rows.map((r): [number, UserNow] => [Number(r.id), { role: r.role, tokenGeneration: Number(r.token_generation) }]));
    const now = Date.now();
    return ids.map((id) => {
      const user = users.get(id) ?? null;
      this.remember(id, user, now);
      return { ok: true, value: user };
    });
  }

  private standIn(id: number, error: Error): ItemResult<UserNow | null> {
    const last = this.known.get(id);
    return last && Date.now() - last.at <= STAND_IN_FOR_MS ? { ok: true, value: last.user } : { ok: false, error };
  }
}
