import * as argon2 from 'argon2';
import { Client } from 'pg';
import { ARGON2_OPTIONS } from './src/auth/password-hasher';
import { signAccessToken } from './src/auth/token.service';

export const LOAD_TEST_PASSWORD = 'loadtest-password';
const loadTestEmail = (i: number, prefix = 'loadtest') => `${prefix}-${i}@example.test`;

export interface LoadTestUser {
  userId: number;
  token: string;
}

/**
 * Makes sure users `<prefix>-<first..first+count-1>@example.test` exist (idempotent, one statement for all) and
 * returns a fresh access token for each, in order. They share one password hash, computed once:
 * hashing thousands of passwords would take minutes and prove nothing.
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
    const hash = await argon2.hash(LOAD_TEST_PASSWORD, ARGON2_OPTIONS);
    await client.query(
      `INSERT INTO users (email, password_hash, name)
       SELECT $4 || '-' || i || '@example.test', $1, 'Load test user ' || i FROM generate_series($2::int, $3::int) AS i
       ON CONFLICT (email) DO NOTHING`,
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
