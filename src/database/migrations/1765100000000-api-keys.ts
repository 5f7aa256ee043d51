import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Service keys for the shop's back ends (POST /api-keys): a name, the scopes it may use, and the
 * SHA-256 of its secret (the secret itself is shown once and never stored). A deleted key's row is
 * gone, and every instance looks its key up on each request, so it is refused everywhere at once.
 */
export class ApiKeys1765100000000 implements MigrationInterface {
  name = 'ApiKeys1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE api_keys (
        id           serial PRIMARY KEY,
        name         text NOT NULL,
        scopes       text[] NOT NULL CONSTRAINT api_keys_scopes_check CHECK (cardinality(scopes) > 0),
        secret_hash  bytea NOT NULL CONSTRAINT api_keys_secret_hash_key UNIQUE,
        created_at   timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE api_keys`);
  }
}
