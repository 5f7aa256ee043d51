// Creates N load-test users straight in the database (idempotent: loadtest-<i>@example.test) and
// writes `userId,token` CSV lines, with that header, for Artillery and other load tools.
//   npx ts-node generate-tokens.ts --count 300 --out tokens.csv
// Uses the same configuration as the service (environment or .env): DATABASE_URL (or the embedded
// database of a running `npm start`), JWT_SECRET_KEY (or the development key under .data/).
import 'dotenv/config';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { resolveJwtSecret } from './src/auth/jwt-secret';
import { loadAppConfig } from './src/config/app-config';
import { ensureLoadTestUsers } from './load/load-test-users';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { count: { type: 'string', default: '300' }, out: { type: 'string', default: 'tokens.csv' } } });
  const count = Number(values.count);
  if (!Number.isInteger(count) || count < 1 || count > 1_000_000) throw new Error('--count must be an integer from 1 to 1000000');
  // a developer's tool first: unset NODE_ENV reads as development here (production settings still hold when set)
  const config = loadAppConfig({ ...process.env, NODE_ENV: process.env.NODE_ENV || 'development' });
  const secret = resolveJwtSecret(config.auth);
  const users = await ensureLoadTestUsers(config.database.url, { secret, expiresInSeconds: config.auth.jwt.expiresInSeconds }, count);
  writeFileSync(values.out!, ['userId,token', ...users.map((u) => `${u.userId},${u.token}`)].join('\n') + '\n');
  console.log(`wrote ${users.length} tokens to ${values.out}`);
}

main().catch((error) => {
  const hint = /relation "users" does not exist|ECONNREFUSED/.test(String(error?.message ?? error))
    ? ' (is the database up and migrated? start the service once first)'
    : '';
  console.error(`generate-tokens failed: ${error instanceof Error ? error.message : String(error)}${hint}`);
  process.exit(1);
});
