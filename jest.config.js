/**
 * Every suite runs against real PostgreSQL and Redis: those at TEST_DATABASE_URL / TEST_REDIS_URL,
 * or servers the global setup starts for the run when nothing answers there (test/setup/).
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  },
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
  testTimeout: 120_000,
  cacheDirectory: '<rootDir>/node_modules/.cache/jest', // not /tmp: a run leaves the machine as it found it
};
