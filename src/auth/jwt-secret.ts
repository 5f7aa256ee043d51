import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { AuthConfig } from '../config/auth.config';

const DEV_SECRET_FILE = join(process.cwd(), '.data', 'jwt-secret');

/**
 * The configured JWT_SECRET_KEY, or (outside production only, where config validation already
 * demands one) a random secret kept in `.data/jwt-secret`, so tokens survive restarts and
 * generate-tokens.ts signs with the same key as the running service.
 */
export function resolveJwtSecret(config: Pick<AuthConfig, 'jwt'>): string {
  if (config.jwt.secret) return config.jwt.secret;
  if (existsSync(DEV_SECRET_FILE)) return readFileSync(DEV_SECRET_FILE, 'utf8').trim();
  const secret = randomBytes(32).toString('hex');
  mkdirSync(dirname(DEV_SECRET_FILE), { recursive: true });
  writeFileSync(DEV_SECRET_FILE, secret, { mode: 0o600, flag: 'wx' });
  return readFileSync(DEV_SECRET_FILE, 'utf8').trim();
}
