import { Global, Inject, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig } from '../config/app-config';

/**
 * Injection token of the shared ioredis client; `null` for the pessimistic strategy, which needs
 * nothing but PostgreSQL (its rate limits are then kept per process).
 */
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

@Injectable()
class RedisShutdown implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis | null) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis?.quit().catch(() => this.redis?.disconnect());
  }
}

@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [AppConfig],
      useFactory: async (config: AppConfig): Promise<Redis | null> => {
        if (config.strategy === 'pessimistic' || !config.redisUrl) return null;
        const logger = new Logger('Redis');
        const redis = createRedisClient(config.redisUrl, 'coupon-api');
        redis.on('error', (error) => logger.warn(`redis: ${error.message}`));
        try {
          await connectWithin(redis, STARTUP_WAIT_MS);
          await assertNoEviction(redis, logger);
          if (config.strategy === 'queue') await warnIfNotDurable(redis, logger);
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
})
export class RedisModule {}
