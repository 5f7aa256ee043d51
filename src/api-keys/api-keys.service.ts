import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { ApiKeyScope } from '../common/api-key-scopes';
import { DomainError } from '../common/errors/domain.error';
import { ErrorCode } from '../common/errors/error-code';
import { keyDigest, newKeySecret } from './api-key-secret';
import type { ApiKeyView, CreatedApiKeyView } from './api-key.view';

type KeyRow = { id: number; name: string; scopes: ApiKeyScope[]; created_at: Date; last_used_at: Date | null };
const toView = (r: KeyRow): ApiKeyView => ({
  id: Number(r.id),
  name: r.name,
  scopes: r.scopes,
  createdAt: r.created_at.toISOString(),
  lastUsedAt: r.last_used_at?.toISOString() ?? null,
});

/** Service keys, made and deleted by an admin (POST, GET, DELETE /api-keys). */
@Injectable()
export class ApiKeysService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async create(name: string, scopes: ApiKeyScope[]): Promise<CreatedApiKeyView> {
    const key = newKeySecret();
    const [row] = await this.db.query<KeyRow[]>(
      'INSERT INTO api_keys (name, scopes, secret_hash) VALUES ($1, $2, $3) RETURNING id, name, scopes, created_at, last_used_at',
      [name, scopes, keyDigest(key)],
    );
    return { id: Number(row.id), name: row.name, scopes: row.scopes, key, createdAt: row.created_at.toISOString() };
  }

  async list(): Promise<ApiKeyView[]> {
    return (await this.db.query<KeyRow[]>('SELECT id, name, scopes, created_at, last_used_at FROM api_keys ORDER BY id DESC')).map(toView);
  }

  async remove(id: number): Promise<void> {
    // TypeORM answers a DELETE with [rows, count]
    const [, count] = await this.db.query<[unknown[], number]>('DELETE FROM api_keys WHERE id = $1', [id]);
    if (!count) throw new DomainError(ErrorCode.NOT_FOUND, `Service key ${id} does not exist`);
  }
}
