import { DynamicModule, Inject, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import Redis, { Cluster } from 'ioredis';
import type { RedisEndpoint } from '../config/endpoints';

/** The service's Redis client: one server, or a Redis Cluster (REDIS_CLUSTER_NODES). */
export type RedisClient = Redis | Cluster;

/** Injection token of the shared ioredis client; provided only where Redis is in use (see RedisModule). */
export const REDIS = Symbol('REDIS');
/** Injection token of the Redis endpoint itself, for connections of their own (BullMQ's worker). */
export const REDIS_ENDPOINT = Symbol('REDIS_ENDPOINT');

const COMMAND_TIMEOUT_MS = 2000;
/** How long start-up waits for Redis to come up (it may be starting beside the service). */
const STARTUP_WAIT_MS = 30_000;

/** Connects, letting the client's own retries run for up to `withinMs`, then gives up. */
export async function connectWithin(redis: RedisClient, withinMs: number): Promise<void> {
  redis.connect().catch(() => undefined); // a first refusal is not final: the client retries
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new Error(`Redis did not answer within ${withinMs / 1000} s`));
    }, withinMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}

/**
 * Commands fail at once while disconnected (no offline queue) and time out after 2 s, so a Redis
 * outage is a fast 503, never a pile of hung requests; the client keeps reconnecting meanwhile.
 * Auto-pipelining is off: each command is written as it is made. On a
 * cluster the slot map is refreshed on MOVED/ASK and every 2 s, and a command that meets
 * CLUSTERDOWN or a failover is retried a little later (within its timeout) instead of failing at once.
 */
export function createRedisClient(endpoint: RedisEndpoint, name: string): RedisClient {
  const perNode = { connectionName: name, maxRetriesPerRequest: 1, commandTimeout: COMMAND_TIMEOUT_MS, connectTimeout: 5000 };
  if (endpoint.kind === 'cluster') {
    return new Cluster(endpoint.nodes, {
      lazyConnect: true,
      // On: with it off, the slot-map refresh after a failover asks nodes whose connections are
      // still re-opening, each refuses at once, and the client gave up on the whole cluster
      // (ClusterAllFailedError, again and again). Commands still fail within the command timeout.
      enableOfflineQueue: true,
      // Off on a cluster: an auto-pipelined batch that meets MOVED after a failover is not
      // redirected, and its errors reached requests as 500s; a single
      // command is redirected and refreshes the slot map.
      enableAutoPipelining: false,
      slotsRefreshInterval: 2000,
      scaleReads: 'master', // reads follow writes: a replica may be behind
      redisOptions: perNode,
      clusterRetryStrategy: (attempt) => Math.min(100 * attempt, 2000),
      retryDelayOnFailover: 100,
      retryDelayOnClusterDown: 100,
      retryDelayOnTryAgain: 100,
      slotsRefreshTimeout: 2000,
    });
  }
  return new Redis(endpoint.url, {
    ...perNode,
    lazyConnect: true,
    enableOfflineQueue: false,
    // Off: it gathers the commands of one event-loop turn into a pipeline, but requests arrive one
    // per turn here, so each command paid for a pipeline of its own (object, promise, exec) and was
    // written alone anyway. Off, the sustained issue run answers more per second for less CPU
    // per request (measured in bench/README.md).
    enableAutoPipelining: false,
    retryStrategy: (attempt) => Math.min(50 * attempt, 1000),
  });
}

/**
 * BullMQ's blocking reads need a connection that waits instead of failing fast (its workers
 * reconnect and resume on their own).
 */
export function createWorkerConnection(endpoint: RedisEndpoint, name: string): RedisClient {
  const connection =
    endpoint.kind === 'cluster'
      ? new Cluster(endpoint.nodes, { redisOptions: { maxRetriesPerRequest: null, connectionName: name }, slotsRefreshInterval: 2000 })
      : new Redis(endpoint.url, { maxRetriesPerRequest: null, connectionName: name });
  // without a listener, every failed reconnect would be printed as an unhandled error event
  const logger = new Logger('Redis');
  connection.on('error', (error: Error) => logger.debug(`${name}: ${error.message}`));
  return connection;
}

/** The servers whose settings matter: the one server, or every master of a cluster. */
export const serversOf = (redis: RedisClient): Redis[] => (redis instanceof Cluster ? redis.nodes('master') : [redis]);

/** How start-up names the Redis it runs on. */
export const describeRedis = (redis: RedisClient): string =>
  redis instanceof Cluster ? `a Redis Cluster of ${redis.nodes('master').length} masters` : 'one Redis server';

/**
 * An evicted key would make a coupon look fresher than it is. The strategies fail closed when
 * state is missing, but eviction under load would turn every request into a rebuild: refuse it.
 */
export async function assertNoEviction(redis: RedisClient, logger: Logger): Promise<void> {
  for (const server of serversOf(redis)) {
    let policy: string | undefined;
    try {
      const reply = (await server.config('GET', 'maxmemory-policy')) as string[];
      policy = reply[1];
    } catch {
      logger.warn('cannot read maxmemory-policy (CONFIG disabled?): make sure it is noeviction');
      return;
    }
    if (policy !== 'noeviction') {
      throw new Error(`Redis maxmemory-policy is "${policy}"; the redis and queue strategies need "noeviction"`);
    }
  }
}

/**
 * A 202 of the queue strategy is a promise kept only in Redis until a worker writes it: without
 * the append-only file, a Redis restart forgets what was accepted and not yet written (those
 * requests then poll as NOT_REQUESTED). Allowed, for development, but said at start-up.
 */
export async function warnIfNotDurable(redis: RedisClient, logger: Logger): Promise<void> {
  for (const server of serversOf(redis)) {
    const reply = (await server.config('GET', 'appendonly').catch(() => undefined)) as string[] | undefined;
    if (reply?.[1] === 'no') {
      logger.warn('Redis appendonly is "no": a restart of Redis loses accepted (202) requests not yet written; run it with appendonly yes');
      return;
    }
  }
}

/** What the Redis client is checked for at start-up, besides answering. */
export interface RedisOptions {
  endpoint: RedisEndpoint;
  /** Accepted requests live only in Redis until written (queue): warn when it keeps no append-only file. */
  warnIfNotDurable: boolean;
}

@Injectable()
class RedisShutdown implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: RedisClient) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/**
 * The shared ioredis client, as `REDIS` (never null), and its endpoint. Imported only where Redis
 * is in use: SharedStateModule decides that for the API, from the configuration; the worker
 * always has it.
 */
@Module({})
export class RedisModule {
  static forRoot(options: RedisOptions): DynamicModule {
    return {
      module: RedisModule,
      global: true,
      providers: [
        {
          provide: REDIS,
          useFactory: async (): Promise<RedisClient> => {
            const logger = new Logger('Redis');
            const redis = createRedisClient(options.endpoint, 'coupon-api');
            redis.on('error', (error: Error) => logger.warn(`redis: ${error.message}`));
            try {
              await connectWithin(redis, STARTUP_WAIT_MS);
              logger.log(`running on ${describeRedis(redis)}`);
              await assertNoEviction(redis, logger);
              if (options.warnIfNotDurable) await warnIfNotDurable(redis, logger);
            } catch (error) {
              redis.disconnect(); // stop reconnecting: this start-up is over
              throw error;
            }
            return redis;
          },
        },
        { provide: REDIS_ENDPOINT, useValue: options.endpoint },
        RedisShutdown,
      ],
      exports: [REDIS, REDIS_ENDPOINT],
    };
  }
}
