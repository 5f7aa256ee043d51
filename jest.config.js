/**
 * Three tiers, each runnable alone (`npm test -- --selectProjects unit`), all three in `npm test`:
 * - unit: no I/O at all;
 * - integration: the application in-process, against real PostgreSQL and Redis;
 * - process: real processes (API, workers, servers of the test's own), faults, the browser.
 * PostgreSQL and Redis are those at TEST_DATABASE_URL / TEST_REDIS_URL, or servers the global
 * setup starts for the run when nothing answers there (test/setup/); unit alone needs neither.
 */
const tier = (name, { services = true } = {}) => ({
  displayName: name,
  // each tier that needs services sets them up; the second setup of a run finds it done (test/setup/)
  ...(services ? { globalSetup: '<rootDir>/test/setup/global-setup.ts', globalTeardown: '<rootDir>/test/setup/global-teardown.ts' } : {}),
  testEnvironment: 'node',
  testMatch: [`<rootDir>/test/${name}/**/*.spec.ts`],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  cacheDirectory: '<rootDir>/node_modules/.cache/jest', // not /tmp: a run leaves the machine as it found it
});

module.exports = {
  projects: [tier('unit', { services: false }), tier('integration'), tier('process')],
  testTimeout: 120_000,
};
