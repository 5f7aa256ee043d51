/** Every suite runs against real PostgreSQL and Redis (see test/setup/test-env.ts for how they are found). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
    // content-disposition 3 (pulled by @fastify/static for the /docs UI) ships ESM only; Jest's
    // module system needs CommonJS, so that one package is transpiled.
    '/node_modules/content-disposition/.+\\.js$': ['ts-jest', { tsconfig: { allowJs: true, module: 'commonjs' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!content-disposition/)'],
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  testTimeout: 120_000,
};
