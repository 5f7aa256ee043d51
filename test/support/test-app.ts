import { randomBytes } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import Redis from 'ioredis';
import { Pool } from 'pg';
import { signAccessToken } from '../../src/auth/token.service';
import { createApp } from '../../src/bootstrap/create-app';
import { AppConfig, loadAppConfig } from '../../src/config/app-config';
import type { IssuanceStrategyName } from '../../src/config/issuance.config';
import { ensureLoadTestUsers, LoadTestUser } from '../../load/load-test-users';
import { TEST_DATABASE_URL, TEST_JWT_SECRET, TEST_REDIS_URL } from '../setup/test-env';
import { httpClient, HttpRequest } from './http';

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  baseUrl: string;
  http: HttpRequest;
  /** Direct SQL access for checking invariants behind the API's back. */
  sql: Pool;
  /** `count` fresh users (unique to this call) with their tokens. */
  users(count: number): Promise<LoadTestUser[]>;
  /** A fresh admin user's token. */
  adminToken(): Promise<string>;
  /** Creates a coupon through the API as that admin; returns its id. */
  createCoupon(adminToken: string, totalQuantity: number, name?: string): Promise<number>;
  /** The test Redis database, to look at or break the state behind the API's back. */
  redis: Redis;
  close(): Promise<void>;
}

export function testConfig(overrides: Record<string, string> = {}): AppConfig {
  return loadAppConfig({
    NODE_ENV: 'test',
    DATABASE_URL: TEST_DATABASE_URL,
    REDIS_URL: TEST_REDIS_URL,
    JWT_SECRET_KEY: TEST_JWT_SECRET,
    LOG_LEVEL: 'error',
    PORT: '0',
    // suites sign up many accounts from one address; rate-limit.spec.ts tests the budget itself
    RATE_LIMIT_SIGNUP_PER_HOUR: '0',
    ...overrides,
  });
}

/** The real application on a real port, as `npm start` runs it, with the given strategy. */
export async function startTestApp(strategy: IssuanceStrategyName = 'pessimistic', env: Record<string, string> = {}): Promise<TestApp> {
  const config = testConfig({ ISSUANCE_STRATEGY: strategy, ...env });
  const app = await createApp(config);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address() as { port: number };
  const baseUrl = `http://127.0.0.1:${address.port}`;
  // a test may point the app at a PostgreSQL or Redis of its own (to stop it); the helpers follow
  const databaseUrl = env.DATABASE_URL ?? TEST_DATABASE_URL;
  const sql = new Pool({ connectionString: databaseUrl, max: 4 });
  sql.on('error', () => undefined); // an idle connection cut by a stopped server: the next query reconnects
  const redis = new Redis(env.REDIS_URL ?? TEST_REDIS_URL, { lazyConnect: true });
  const http = httpClient(baseUrl);
  const jwt = { secret: TEST_JWT_SECRET, expiresInSeconds: 3600 };
  return {
    app,
    config,
    baseUrl,
    http,
    sql,
    redis,
    users: (count) => ensureLoadTestUsers(databaseUrl, jwt, count, { prefix: `t-${randomBytes(6).toString('hex')}` }),
    adminToken: async () => {
      const email = `admin-${randomBytes(6).toString('hex')}@example.test`;
      const { rows } = await sql.query(`INSERT INTO users (email, password_hash, role) VALUES ($1, 'x', 'admin') RETURNING id`, [email]);
      return signAccessToken(TEST_JWT_SECRET, { id: rows[0].id, role: 'admin' }, 3600);
    },
    createCoupon: async (token, totalQuantity, name = 'test coupon') => {
      const res = await http('POST', '/coupons', { token, body: { name, totalQuantity } });
      if (res.status !== 201) throw new Error(`creating a coupon gave ${res.status}: ${JSON.stringify(res.body)}`);
      return res.body.id;
    },
    close: async () => {
      await app.close();
      await sql.end();
      redis.disconnect();
    },
  };
}
