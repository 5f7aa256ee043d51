import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { TEST_DATABASE_URL } from '../setup/test-env';

/** A DataSource of the test's own on the test database, with the service's options and a small pool. */
export async function testDataSource({ statementTimeoutMs = 10_000 } = {}): Promise<DataSource> {
  const db = new DataSource(
    dataSourceOptions({
      url: TEST_DATABASE_URL,
      embedded: false,
      poolSize: 4,
      acquireTimeoutMs: 5000,
      lockTimeoutMs: 5000,
      statementTimeoutMs,
      logging: false,
    }),
  );
  return db.initialize();
}

/** `count` users with no usable password, for tests that write issues below HTTP; their ids. */
export async function bareUsers(db: DataSource, prefix: string, count: number): Promise<number[]> {
  const rows = await db.query<{ id: number }[]>(
    `INSERT INTO users (email, password_hash) SELECT $1 || '-' || g || '-' || $2 || '@example.test', 'x' FROM generate_series(1, $3::int) g RETURNING id`,
    [prefix, Date.now(), count],
  );
  return rows.map((r) => Number(r.id));
}
