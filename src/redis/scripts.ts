import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RedisClient } from './redis.module';

/** Where every Lua script of the service lives (copied to dist/ as an asset, see nest-cli.json). */
const SCRIPTS_DIR = join(__dirname, 'scripts');

/** A script: its file in SCRIPTS_DIR and its fixed number of keys. */
export interface ScriptFile {
  file: string;
  keys: number;
}

/**
 * Defines the scripts as ioredis commands, called by EVALSHA (loaded once per server). Each takes
 * a fixed number of keys: on a cluster ioredis routes a script by its first key, and all of them
 * must share its slot. `constants` are declared at the top of every script (`local NAME = 'value'`),
 * so a name the scripts share with TypeScript, such as a pub/sub channel, is written once; then
 * the `library` files (Lua functions the scripts share, in SCRIPTS_DIR), so a rule is written once.
 */
export function defineScripts<T>(
  redis: RedisClient,
  scripts: Record<keyof T & string, ScriptFile>,
  constants: Record<string, string> = {},
  library: string[] = [],
): T {
  const prelude =
    Object.entries(constants)
      .map(([name, value]) => `local ${name} = ${JSON.stringify(value)}\n`)
      .join('') + library.map((file) => readFileSync(join(SCRIPTS_DIR, file), 'utf8')).join('');
  for (const [name, { file, keys }] of Object.entries<ScriptFile>(scripts)) {
    redis.defineCommand(name, { numberOfKeys: keys, lua: prelude + readFileSync(join(SCRIPTS_DIR, file), 'utf8') });
  }
  return redis as unknown as T;
}
