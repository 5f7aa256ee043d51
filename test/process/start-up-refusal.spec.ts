import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { scratchTmpEnv } from '../support/scratch-dir';

/** Configuration is validated before anything starts: a real process refuses, in one line. */
describe('start-up with invalid configuration', () => {
  it('a real start with a weak production secret exits non-zero, printing one line that names the variable', () => {
    const run = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, '..', '..', 'src', 'main.ts')], {
      env: { PATH: process.env.PATH, ...scratchTmpEnv(), NODE_ENV: 'production', JWT_SECRET_KEY: 'weak', DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual(['Invalid configuration: JWT_SECRET_KEY must be at least 32 bytes when NODE_ENV=production']);
    expect(run.stderr + run.stdout).not.toContain('weak');
  });
});
