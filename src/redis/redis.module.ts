import { DynamicModule, Inject, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';

/** Injection token of the shared ioredis client; provided only where Redis is in use (see RedisModule). */
export const REDIS = Symbol('REDIS');

const COMMAND_TIMEOUT_MS = 2000;
/** How long start-up waits for Redis to come up (it may be starting beside the service). */
const STARTUP_WAIT_MS = 30_000;

/** Connects, letting the client's own retries run for up to `withinMs`, then gives up. */
export async function connectWithin(redis: Redis, withinMs: number): Promise<void> {
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
 * Auto-pipelining sends the commands of one event-loop tick in one write.
 */
export function createRedisClient(url: string, name: string): Redis {
  return new Redis(url, {
    connectionName: name,
    lazyConnect: true,
    enableOfflineQueue: false,
    enableAutoPipelining: true,
    maxRetriesPerRequest: 1,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: 5000,
    retryStrategy: (attempt) => Math.min(50 * attempt, 1000),
  });
}

/**
 * An evicted key would make a campaign look fresher than it is. The strategies fail closed when
 * state is missing, but eviction under load would turn every request into a rebuild: refuse it.
 */
export async function assertNoEviction(redis: Redis, logger: Logger): Promise<void> {
  let policy: string | undefined;
  try {
    const reply = (await redis.config('GET', 'maxmemory-policy')) as string[];
    policy = reply[1];
  } catch {
    logger.warn('cannot read maxmemory-policy (CONFIG disabled?): make sure it is noeviction');
    return;
  }
  if (policy !== 'noeviction') {
    throw new Error(`Redis maxmemory-policy is "${policy}"; the redis and queue strategies need "noeviction"`);
  }
}

/**
 * A 202 of the queue strategy is a promise kept only in Redis until a worker writes it: without
 * the append-only file, a Redis restart forgets what was accepted and not yet written (those
 * requests then poll as NOT_REQUESTED). Allowed, for development, but said at start-up.
 */
export async function warnIfNotDurable(redis: Redis, logger: Logger): Promise<void> {
  const reply = (await redis.config('GET', 'appendonly').catch(() => undefined)) as string[] | undefined;
  if (reply?.[1] === 'no') {
    logger.warn('Redis appendonly is "no": a restart of Redis loses accepted (202) requests not yet written; run it with appendonly yes');
  }
}

/** What the Redis client is checked for at start-up, besides answering. */
export interface RedisOptions {
  url: string;
  /** Accepted requests live only in Redis until written (queue): warn when it keeps no append-only file. */
  warnIfNotDurable: boolean;
}

@Injectable()
class RedisShutdown implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/**
 * The shared ioredis client, as `REDIS` (never null). Imported only where Redis is in use: the
 * composition root decides that (AppModule, from the configuration; the worker always), and each
 * port that can live without Redis picks its implementation once, from whether `REDIS` exists.
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
          useFactory: async (): Promise<Redis> => {
            const logger = new Logger('Redis');
            const redis = createRedisClient(options.url, 'coupon-api');
            redis.on('error', (error) => logger.warn(`redis: ${error.message}`));
            try {
              await connectWithin(redis, STARTUP_WAIT_MS);
              await assertNoEviction(redis, logger);
              if (options.warnIfNotDurable) await warnIfNotDurable(redis, logger);
            } catch (error) {
              redis.disconnect(); // stop reconnecting: this start-up is over
              throw error;
            }
            return redis;
          },
        },
        RedisShutdown,
      ],
      exports: [REDIS],
    };
  }
}
