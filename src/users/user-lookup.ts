import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { unavailable } from '../common/errors/domain.error';
import { KeyedBatcher } from '../common/keyed-batcher';
import type { Role } from './user.entity';

/** All lookups share one lane: concurrent requests are answered by one query. */
const LANE = 0;

/**
 * Who a token's user is now: their current role, or null once they no longer exist. A token
 * outlives changes to its user (deleted, demoted), so the guard asks on every request. The
 * lookups of concurrent requests are group-committed into one `id = ANY($1)` query, so a burst
 * costs PostgreSQL a few indexed reads per flush, not one round trip per request.
 */
@Injectable()
export class UserLookup {
  private readonly batcher = new KeyedBatcher<number, number, Role | null>((_, ids) => this.read(ids), {
    maxBatch: 5000,
    maxQueued: 100_000,
    overflow: () => unavailable('too many requests waiting for authentication'),
  });

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  currentRole(userId: number): Promise<Role | null> {
    return this.batcher.submit(LANE, userId);
  }

  private async read(ids: number[]) {
    const rows = await this.db.query<{ id: number; role: Role }[]>('SELECT id, role FROM users WHERE id = ANY($1::int[])', [[...new Set(ids)]]);
    const roles = new Map(rows.map((r) => [Number(r.id), r.role]));
    return ids.map((id) => ({ ok: true as const, value: roles.get(id) ?? null }));
  }
}
