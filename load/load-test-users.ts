import { randomBytes } from 'node:crypto';
import * as argon2 from 'argon2';
import { Client } from 'pg';
import { ARGON2_OPTIONS } from '../src/auth/password-hasher';
import { signAccessToken } from '../src/auth/token.service';

const loadTestEmail = (i: number, prefix = 'loadtest') => `${prefix}-${i}@example.test`;

export interface LoadTestUser {
  userId: number;
  token: string;
}

/**
 * Makes sure users `<prefix>-<first..first+count-1>@example.test` exist (idempotent, one statement for all) and
 * returns a fresh access token for each, in order. Nobody can log in as them: they share the hash
 * of a random password that is thrown away at once (a real argon2 hash, so a log-in attempt takes
 * as long as anyone's), and accounts made earlier with the old shared password get it too. The
 * tokens are signed here, with the service's key; that is the only way in.
 */
export async function ensureLoadTestUsers(
  databaseUrl: string,
  jwt: { secret: string; expiresInSeconds: number },
  count: number,
  { first = 1, prefix = 'loadtest' }: { first?: number; prefix?: string } = {},
): Promise<LoadTestUser[]> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const hash = await argon2.hash(randomBytes(32).toString('base64'), ARGON2_OPTIONS);
    await client.query(
      `INSERT INTO users (email, password_hash, name)
       SELECT $4 || '-' || i || '@example.test', $1, 'Load test user ' || i FROM generate_series($2::int, $3::int) AS i
       ON CONFLICT (email) DO UPDATE SET password_hash = EXCLUDED.password_hash`,
      [hash, first, first + count - 1, prefix],
    );
    const { rows } = await client.query<{ id: number; email: string }>(`SELECT id, email FROM users WHERE email = ANY($1::text[])`, [
      Array.from({ length: count }, (_, k) => loadTestEmail(first + k, prefix)),
    ]);
    const idByEmail = new Map(rows.map((r) => [r.email, r.id]));
    return Array.from({ length: count }, (_, k) => {
      const userId = idByEmail.get(loadTestEmail(first + k, prefix))!;
      return { userId, token: signAccessToken(jwt.secret, { id: userId, role: 'user' }, jwt.expiresInSeconds) };
    });
  } finally {
    await client.end();
  }
}
