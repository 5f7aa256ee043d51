/**
 * Where the tests find their services: TEST_DATABASE_URL / TEST_REDIS_URL, by default the
 * machine's local servers. When nothing answers there, the global setup starts servers of the
 * run's own and points these variables at them before any test file loads. The database is
 * wiped, so its name must say "test".
 */
export const DEFAULT_TEST_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';
export const DEFAULT_TEST_REDIS_URL = 'redis://127.0.0.1:6379/15';
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || DEFAULT_TEST_DATABASE_URL;
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL || DEFAULT_TEST_REDIS_URL;
export const TEST_JWT_SECRET = 'test-secret-that-is-at-least-32-bytes-long!!';

export function assertTestDatabase(url: string): void {
  const name = new URL(url).pathname.slice(1);
  if (!/test/i.test(name)) {
    throw new Error(`Refusing to run tests against database "${name}": its name must contain "test" (it gets wiped)`);
  }
}
