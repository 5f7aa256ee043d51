import { randomBytes } from 'node:crypto';
import { loadAppConfig } from '../../src/config/app-config';

const strong = randomBytes(32).toString('hex');
const dev = { NODE_ENV: 'development' };

describe('configuration', () => {
  it('has working defaults in development, with the embedded database when none is configured', () => {
    const config = loadAppConfig(dev);
    expect(config).toMatchObject({ http: { port: 3000 }, issuance: { strategy: 'pessimistic', runWorker: true }, logLevel: 'info' });
    expect(config.database).toMatchObject({ embedded: true, url: expect.stringContaining('127.0.0.1:54329') });
    expect(config.auth.jwt.expiresInSeconds).toBe(3600);
  });

  it('builds the database URL from DATABASE_* parts, and DATABASE_URL wins over them', () => {
    const parts = loadAppConfig({
      ...dev,
      DATABASE_HOST: 'db',
      DATABASE_PORT: '6543',
      DATABASE_USER: 'app',
      DATABASE_PASSWORD: 'p@ss',
      DATABASE_NAME: 'coupons',
    });
    expect(parts.database).toMatchObject({ embedded: false, url: 'postgres://app:p%40ss@db:6543/coupons' });
    const both = loadAppConfig({ ...dev, DATABASE_HOST: 'db', DATABASE_URL: 'postgres://u@h:1/d' });
    expect(both.database.url).toBe('postgres://u@h:1/d');
  });

  it.each([
    [{ NODE_ENV: 'production' }, /^Invalid configuration: JWT_SECRET_KEY is required/],
    [
      { NODE_ENV: 'production', JWT_SECRET_KEY: strong },
      /^Invalid configuration: DATABASE_URL \(or DATABASE_HOST\) is required unless NODE_ENV is development or test/,
    ],
    // NODE_ENV unset (a host running `npm run start:prod`) or anything but development/test: as strict as production
    [{}, /^Invalid configuration: JWT_SECRET_KEY is required unless NODE_ENV is development or test/],
    [{ JWT_SECRET_KEY: 'short', DATABASE_HOST: 'db' }, /^Invalid configuration: JWT_SECRET_KEY must be at least 32 bytes/],
    [{ NODE_ENV: 'staging', JWT_SECRET_KEY: strong }, /^Invalid configuration: DATABASE_URL/],
    [
      { JWT_SECRET_KEY: strong, DATABASE_HOST: 'db', ADMIN_EMAIL: 'a@b.c', ADMIN_PASSWORD: 'short-pass' },
      /^Invalid configuration: ADMIN_PASSWORD must be at least 12 characters/,
    ],
    [
      { JWT_SECRET_KEY: strong, DATABASE_HOST: 'db', ADMIN_EMAIL: 'a@b.c', ADMIN_PASSWORD: 'change-me-please' },
      /^Invalid configuration: ADMIN_PASSWORD is a published example password/,
    ],
    [{ NODE_ENV: 'production', JWT_SECRET_KEY: 'short' }, /^Invalid configuration: JWT_SECRET_KEY must be at least 32 bytes/],
    [{ NODE_ENV: 'production', JWT_SECRET_KEY: 'x'.repeat(64) }, /^Invalid configuration: JWT_SECRET_KEY is too repetitive/],
    [{ NODE_ENV: 'production', JWT_SECRET_KEY: '1234567890'.repeat(4) }, /^Invalid configuration: JWT_SECRET_KEY is too repetitive/],
    [{ ...dev, JWT_EXPIRES_IN: 'forever' }, /^Invalid configuration: JWT_EXPIRES_IN/],
    [{ ...dev, JWT_EXPIRES_IN: '7d' }, /^Invalid configuration: JWT_EXPIRES_IN must be at most 24h/],
    [{ ...dev, JWT_EXPIRES_IN: '86401' }, /^Invalid configuration: JWT_EXPIRES_IN must be at most 24h/],
    [{ ...dev, ISSUANCE_STRATEGY: 'optimistic' }, /^Invalid configuration: ISSUANCE_STRATEGY must be one of pessimistic, redis, queue/],
    [{ ...dev, ISSUANCE_STRATEGY: 'redis' }, /^Invalid configuration: REDIS_URL \(or REDIS_CLUSTER_NODES\) is required by ISSUANCE_STRATEGY=redis/],
    [
      { ...dev, ISSUANCE_STRATEGY: 'redis', REDIS_CLUSTER_NODES: '10.0.0.1:7000,redis-b' },
      /^Invalid configuration: REDIS_CLUSTER_NODES must be host:port,host:port,…; "redis-b"/,
    ],
    [{ ...dev, PORT: 'eighty' }, /^Invalid configuration: PORT must be an integer/],
    [{ ...dev, RUN_WORKER: 'maybe' }, /^Invalid configuration: RUN_WORKER must be true or false/],
    [{ ...dev, LOG_LEVEL: 'loud' }, /^Invalid configuration: LOG_LEVEL/],
    [{ ...dev, DATABASE_URL: 'mysql://x/y' }, /^Invalid configuration: DATABASE_URL/],
    [{ ...dev, ADMIN_EMAIL: 'a@b.c' }, /^Invalid configuration: ADMIN_PASSWORD/],
    [{ ...dev, AUTH_JWKS_URL: 'https://id.shop/jwks', AUTH_ISSUER: 'https://id.shop/' }, /^Invalid configuration: AUTH_AUDIENCE must be set together with/],
    [{ ...dev, AUTH_ISSUER: 'https://id.shop/', AUTH_AUDIENCE: 'coupons' }, /^Invalid configuration: AUTH_JWKS_URL must be set together with/],
    [{ ...dev, AUTH_JWKS_URL: 'id.shop/jwks', AUTH_ISSUER: 'i', AUTH_AUDIENCE: 'a' }, /^Invalid configuration: AUTH_JWKS_URL must be a URL/],
    [{ ...dev, AUTH_JWKS_URL: 'file:///etc/jwks', AUTH_ISSUER: 'i', AUTH_AUDIENCE: 'a' }, /^Invalid configuration: AUTH_JWKS_URL must be an http or https URL/],
  ])('refuses %j with one line naming the variable', (env, message) => {
    expect(() => loadAppConfig(env)).toThrow(message);
  });

  it('development and test tolerate what a developer uses: no secret, the embedded database, a short admin password', () => {
    for (const NODE_ENV of ['development', 'test']) {
      expect(loadAppConfig({ NODE_ENV, JWT_SECRET_KEY: 'short', ADMIN_EMAIL: 'a@b.c', ADMIN_PASSWORD: 'change-me-please' }).auth.admin?.password).toBe(
        'change-me-please',
      );
    }
  });

  it('REDIS_CLUSTER_NODES, when set, is used instead of REDIS_URL', () => {
    const config = loadAppConfig({
      ...dev,
      ISSUANCE_STRATEGY: 'queue',
      REDIS_URL: 'redis://one:6379',
      REDIS_CLUSTER_NODES: 'a:7000, 10.0.0.2:7001,[::1]:7002',
    });
    expect(config.redis).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'a', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
        { host: '::1', port: 7002 },
      ],
    });
    expect(loadAppConfig({ ...dev, ISSUANCE_STRATEGY: 'redis', REDIS_URL: 'redis://one:6379', REDIS_CLUSTER_NODES: '' }).redis).toEqual({
      kind: 'single',
      url: 'redis://one:6379',
    });
  });

  it('accepts a strong secret in production', () => {
    expect(loadAppConfig({ NODE_ENV: 'production', JWT_SECRET_KEY: strong, DATABASE_HOST: 'db' }).auth.jwt.secret).toBe(strong);
  });
});
