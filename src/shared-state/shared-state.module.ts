import { DynamicModule, Module, Provider } from '@nestjs/common';
import { LoginAttemptStore, MemoryLoginAttemptStore, RedisLoginAttemptStore } from '../auth/login-attempt.store';
import { AppConfig } from '../config/app-config';
import { CouponViewCache, NoCouponViewCache, RedisCouponViewCache } from '../coupons/coupon-view.cache';
import { PostgresStockSignal } from '../issuance/sold-out/postgres-stock-signal';
import { RedisStockSignal } from '../issuance/sold-out/redis-stock-signal';
import { StockSignal } from '../issuance/sold-out/stock-signal';
import { PromptlySweptRateLimitStorage } from '../rate-limit/in-process-rate-limit.storage';
import { RATE_LIMIT_STORAGE } from '../rate-limit/rate-limit-storage';
import { RedisRateLimitStorage } from '../rate-limit/redis-rate-limit.storage';
import { REDIS, type RedisClient, RedisModule } from '../redis/redis.module';

/** The ports whose state every instance of the service should share, each behind its own token. */
const PORTS = [LoginAttemptStore, CouponViewCache, StockSignal, RATE_LIMIT_STORAGE];

const redisBacked = (): Provider[] => [
  { provide: LoginAttemptStore, inject: [REDIS], useFactory: (redis: RedisClient) => new RedisLoginAttemptStore(redis) },
  { provide: CouponViewCache, inject: [REDIS], useFactory: (redis: RedisClient) => new RedisCouponViewCache(redis) },
  // the reservation scripts publish when a coupon's stock may be back
  { provide: StockSignal, inject: [REDIS], useFactory: (redis: RedisClient) => new RedisStockSignal(redis) },
  { provide: RATE_LIMIT_STORAGE, inject: [REDIS], useFactory: (redis: RedisClient) => new RedisRateLimitStorage(redis) },
];

const inProcess = (config: AppConfig): Provider[] => [
  { provide: LoginAttemptStore, useFactory: () => new MemoryLoginAttemptStore() },
  { provide: CouponViewCache, useClass: NoCouponViewCache },
  // PostgreSQL's triggers notify when a coupon's stock may be back
  { provide: StockSignal, useFactory: () => new PostgresStockSignal(() => config.database.url) },
  { provide: RATE_LIMIT_STORAGE, useClass: PromptlySweptRateLimitStorage },
];

/**
 * Where the state that instances share lives, decided once, from the configuration: in Redis when
 * the service has one (the redis and queue strategies), shared by every instance; in the process
 * otherwise (pessimistic needs nothing but PostgreSQL). It provides the login-attempt counts, the
 * coupon-view cache, the stock signal and the rate-limit counts, each behind its port, and with
 * Redis, the client itself (`REDIS`) for what needs it directly. Global: the feature modules
 * inject the ports without asking whether there is Redis.
 */
@Module({})
export class SharedStateModule {
  static forRoot(config: AppConfig): DynamicModule {
    const base = { module: SharedStateModule, global: true };
    if (!config.redis) return { ...base, providers: inProcess(config), exports: PORTS };
    return {
      ...base,
      imports: [RedisModule.forRoot({ endpoint: config.redis, warnIfNotDurable: config.issuance.strategy === 'queue' })],
      providers: redisBacked(),
      exports: PORTS,
    };
  }
}
