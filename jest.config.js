/** Every suite runs against real PostgreSQL and Redis (see test/setup/test-env.ts for how they are found). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  },
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  testTimeout: 120_000,
};
