import { ConfigError } from './config.error';
import { type Env, int } from './env-readers';

/** Where `npm start` runs its embedded PostgreSQL when no database is configured. */
export const EMBEDDED_PG = { port: 54329, user: 'postgres', password: 'postgres', database: 'coupons' };

/** PostgreSQL: DATABASE_URL, or its parts, or the embedded server (`embedded`). */
export function databaseUrl(env: Env): { url: string; embedded: boolean } {
  const url = env.DATABASE_URL?.trim();
  if (url) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ConfigError('DATABASE_URL', 'is not a URL (expected postgres://user:pass@host:port/db)');
    }
    if (!['postgres:', 'postgresql:'].includes(parsed.protocol) || !parsed.pathname.slice(1)) {
      throw new ConfigError('DATABASE_URL', 'must look like postgres://user:pass@host:port/db');
    }
    return { url, embedded: false };
  }
  if (env.DATABASE_HOST?.trim()) {
    const port = int(env, 'DATABASE_PORT', 5432, 1, 65535);
    const user = encodeURIComponent(env.DATABASE_USER ?? 'postgres');
    const password = env.DATABASE_PASSWORD ? `:${encodeURIComponent(env.DATABASE_PASSWORD)}` : '';
    const name = encodeURIComponent(env.DATABASE_NAME ?? 'postgres');
    return { url: `postgres://${user}${password}@${env.DATABASE_HOST.trim()}:${port}/${name}`, embedded: false };
  }
  const e = EMBEDDED_PG;
  return { url: `postgres://${e.user}:${e.password}@127.0.0.1:${e.port}/${e.database}`, embedded: true };
}

/** One Redis server, or the seed nodes of a Redis Cluster. */
export type RedisEndpoint = { kind: 'single'; url: string } | { kind: 'cluster'; nodes: { host: string; port: number }[] };

export function redisEndpoint(env: Env): RedisEndpoint | undefined {
  const seeds = env.REDIS_CLUSTER_NODES?.trim();
  if (seeds) {
    const nodes = seeds.split(',').map((entry) => {
      const match = /^([\w.-]+|\[[\da-fA-F:]+\]):(\d{1,5})$/.exec(entry.trim());
      if (!match || Number(match[2]) > 65535) throw new ConfigError('REDIS_CLUSTER_NODES', `must be host:port,host:port,…; "${entry.trim()}" is not host:port`);
      return { host: match[1].replace(/^\[|\]$/g, ''), port: Number(match[2]) };
    });
    return { kind: 'cluster', nodes };
  }
  const url = env.REDIS_URL?.trim() || undefined;
  if (url && !/^rediss?:\/\//.test(url)) throw new ConfigError('REDIS_URL', 'must look like redis://host:port[/db]');
  return url ? { kind: 'single', url } : undefined;
}
