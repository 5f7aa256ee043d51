import { randomBytes } from 'node:crypto';

const CODE_BYTES = 15;

/**
 * `count` codes of 120 random bits each, URL-safe (20 characters): unguessable, and collisions
 * are left to the UNIQUE index. One draw from the CSPRNG for the whole batch, not one per code.
 */
export function newIssueCodes(count: number): string[] {
  const bytes = randomBytes(CODE_BYTES * count);
  const codes = new Array<string>(count);
  for (let i = 0; i < count; i++) codes[i] = bytes.toString('base64url', i * CODE_BYTES, (i + 1) * CODE_BYTES);
  return codes;
}
