// npm run lint: typescript-eslint's recommended rules, no import cycles, and the direction of the
// import graph: common/ and config/ sit at the bottom and import no feature module.
const tseslint = require('typescript-eslint');
const importX = require('eslint-plugin-import-x');
const prettier = require('eslint-config-prettier');

const FEATURES = ['auth', 'users', 'coupons', 'issuance', 'queue-worker', 'rate-limit', 'health', 'metrics', 'admin', 'database', 'redis', 'bootstrap'];

module.exports = tseslint.config(
  // test/client/api.d.ts: generated from docs/openapi.json by openapi-typescript (npm run openapi)
  {
    ignores: [
      'dist/',
      'node_modules/',
      'load/node_modules/',
      'coverage/',
      'test-artifacts/',
      'bench/results/',
      'src/admin/public/',
      'test/client/api.d.ts',
      '.cache/',
    ],
  },
  ...tseslint.configs.recommended,
  {
    plugins: { 'import-x': importX },
    settings: {
      // without these, import-x reads no .ts file and finds no cycle at all
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [importX.createNodeResolver({ extensions: ['.ts', '.js'] })],
    },
    rules: {
      'import-x/no-cycle': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // `!` where the code has just established the value (a Map entry set a line above, ...)
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['src/common/**/*.ts', 'src/config/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: `^\\.\\./(\\.\\./)*(${FEATURES.join('|')})/`, message: 'common/ and config/ are the bottom of the graph: they import no feature module' },
          ],
        },
      ],
    },
  },
  {
    // a response body in a test is JSON of whatever shape the route gives; tests read it freely
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', process: 'readonly', console: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
