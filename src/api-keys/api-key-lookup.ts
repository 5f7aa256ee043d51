import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { ApiKeyScope } from '../common/api-key-scopes';
import { unavailable } from '../common/errors/domain.error';
import { ItemResult, KeyedBatcher } from '../common/keyed-batcher';
import { keyDigest } from './api-key-secret';

export interface ApiKeyNow {
  id: number;
  scopes: ApiKeyScope[];
}

const LANE = 0;
/** `last_used_at` is written at most this often per key and process: it is for people, not an audit log. */
const TOUCH_EVERY_MS = 60_000;

/**
 * Which key a bearer secret is now, read from PostgreSQL on every request (the lookups of
 * concurrent requests in one query), so a key deleted on one instance is refused by all at once.
 */
@Injectable()
export class ApiKeyLookup {
  private readonly logger = new Logger(ApiKeyLookup.name);
  private readonly batcher = new KeyedBatcher<number, Buffer, ApiKeyNow | null>((_, digests) => this.read(digests), {
    maxBatch: 1000,
    maxQueued: 20_000,
    overflow: () => unavailable('too many requests waiting for authentication'),
  });
  private readonly touched = new Map<number, number>();

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** The key this secret is, or null (never made, or deleted). */
  async find(secret: string): Promise<ApiKeyNow | null> {
    const key = await this.batcher.submit(LANE, keyDigest(secret));
    if (key) this.touch(key.id);
    return key;
  }

  private async read(digests: Buffer[]): Promise<ItemResult<ApiKeyNow | null>[]> {
    const rows = await this.db.query<{ id: number; scopes: ApiKeyScope[]; secret_hash: Buffer }[]>(
      'SELECT id, scopes, secret_hash FROM api_keys WHERE secret_hash = ANY($1::bytea[])',
      [digests],
    );
    const byDigest = new Map(rows.map((r) => [r.secret_hash.toString('hex'), { id: Number(r.id), scopes: r.scopes }]));
    return digests.map((d) => ({ ok: true, value: byDigest.get(d.toString('hex')) ?? null }));
  }

  private touch(id: number, now = Date.now()): void {
    if (now - (this.touched.get(id) ?? 0) < TOUCH_EVERY_MS) return;
    this.touched.set(id, now);
    this.db
      .query('UPDATE api_keys SET last_used_at = now() WHERE id = $1', [id])
      .catch((error: Error) => this.logger.warn(`could not record the use of key ${id}: ${error.message}`));
  }
}
