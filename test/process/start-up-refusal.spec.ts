import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Pool } from 'pg';
import { TEST_DATABASE_URL, TEST_JWT_SECRET } from '../setup/test-env';
import { scratchTmpEnv } from '../../servers/scratch-dir';

/** Configuration is validated before anything starts: a real process refuses, in one line. */
describe('start-up with invalid configuration', () => {
  it.each([
    ['NODE_ENV=production', { NODE_ENV: 'production' }],
    ['NODE_ENV unset (npm run start:prod on a host)', {}],
  ])('a real start with a weak secret, %s, exits non-zero, printing one line that names the variable', (_, nodeEnv: Record<string, string>) => {
    const run = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, '..', '..', 'src', 'main.ts')], {
      env: { PATH: process.env.PATH, ...scratchTmpEnv(), ...nodeEnv, JWT_SECRET_KEY: 'weak', DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual(['Invalid configuration: JWT_SECRET_KEY must be at least 32 bytes unless NODE_ENV is development or test']);
    expect(run.stderr + run.stdout).not.toContain('weak');
  });

  it('ADMIN_EMAIL naming an account someone signed up with: refuses to start rather than make it an admin', async () => {
    const sql = new Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
    const email = `squatter-${randomBytes(4).toString('hex')}@example.test`;
    try {
      await sql.query(`INSERT INTO users (email, password_hash) VALUES ($1, 'x')`, [email]);
      const run = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, '..', '..', 'src', 'main.ts')], {
        env: {
          PATH: process.env.PATH,
          ...scratchTmpEnv(),
          NODE_ENV: 'test',
          PORT: '0',
          LOG_LEVEL: 'error',
          JWT_SECRET_KEY: TEST_JWT_SECRET,
          DATABASE_URL: TEST_DATABASE_URL,
          ADMIN_EMAIL: email,
          ADMIN_PASSWORD: 'a-long-admin-password',
        },
        encoding: 'utf8',
        timeout: 90_000,
      });
      expect(run.status).toBe(1);
      expect(run.stderr).toContain(`start-up failed: ADMIN_EMAIL ${email} belongs to an account that is not an admin`);
      expect((await sql.query('SELECT role, password_hash FROM users WHERE email = $1', [email])).rows).toEqual([{ role: 'user', password_hash: 'x' }]);
    } finally {
      await sql.end();
    }
  });
});
