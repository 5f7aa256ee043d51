import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type RedisClient, serversOf } from './redis.module';

/** Where every Lua script of the service lives (copied to dist/ as an asset, see nest-cli.json). */
const SCRIPTS_DIR = join(__dirname, 'scripts');

/** A script: its file in SCRIPTS_DIR and its fixed number of keys. */
export interface ScriptFile {
  file: string;
  keys: number;
}

/**
 * What every script of a set starts with: `constants` declared (`local NAME = 'value'`), so a name
 * the scripts share with TypeScript, such as a pub/sub channel, is written once; then the
 * `library` files (Lua functions the scripts share, in SCRIPTS_DIR), so a rule is written once.
 */
export interface Prelude {
  constants?: Record<string, string>;
  library?: string[];
}

const scriptText = (file: string) => readFileSync(join(SCRIPTS_DIR, file), 'utf8');

function preludeOf({ constants = {}, library = [] }: Prelude): string {
  return (
    Object.entries(constants)
      .map(([name, value]) => `local ${name} = ${JSON.stringify(value)}\n`)
      .join('') + library.map(scriptText).join('')
  );
}

/**
 * Defines the scripts as ioredis commands, called by EVALSHA (loaded once per server). Each takes
 * a fixed number of keys: on a cluster ioredis routes a script by its first key, and all of them
 * must share its slot. Each starts with the prelude (preludeOf).
 */
export function defineScripts<T>(redis: RedisClient, scripts: Record<keyof T & string, ScriptFile>, prelude: Prelude = {}): T {
  const start = preludeOf(prelude);
  for (const [name, { file, keys }] of Object.entries<ScriptFile>(scripts)) {
    redis.defineCommand(name, { numberOfKeys: keys, lua: start + scriptText(file) });
  }
  return redis as unknown as T;
}

/**
 * The same scripts, each run as a Redis function (FCALL) of one library instead: the library's
 * prelude runs once when the server loads it, so what a script reads once and keeps there (a
 * `local` of a library file) lasts as long as that server process, where an EVALSHA script
 * starts from nothing on every call. The script files are the same (their KEYS and ARGV are the
 * function's arguments). The library is named by a hash of its code, so processes of two versions
 * never call each other's; a server that lacks it (a new or emptied one) is given it on the
 * first call that finds it missing, on every master at once.
 */
export function defineFunctions<T>(redis: RedisClient, scripts: Record<keyof T & string, ScriptFile>, prelude: Prelude = {}): T {
  const start = preludeOf(prelude);
  const bodies = Object.entries<ScriptFile>(scripts).map(([name, { file }]) => [name, scriptText(file)] as const);
  const registered = (suffix: string) =>
    bodies.map(([name, body]) => `redis.register_function('${name}${suffix}', function(KEYS, ARGV)\n${body}\nend)\n`).join('');
  const version = createHash('sha1').update(start).update(registered('')).digest('hex').slice(0, 12);
  const code = `#!lua name=service_${version}\n${start}${registered(`_${version}`)}`;
  // every master, whether or not it is the one that lacked it (a master down now gets it on a later
  // call); once at a time, for all the calls that found it missing (a burst after Redis restarted empty)
  let loading: Promise<unknown> | undefined;
  const load = () =>
    (loading ??= Promise.allSettled(serversOf(redis).map((server) => server.call('FUNCTION', 'LOAD', 'REPLACE', code))).finally(() => (loading = undefined)));
  const functions: Record<string, (...keysThenArgs: (string | number)[]) => Promise<unknown>> = {};
  for (const [name, { keys }] of Object.entries<ScriptFile>(scripts)) {
    const call = (keysThenArgs: (string | number)[]) => redis.fcall(`${name}_${version}`, keys, ...keysThenArgs);
    functions[name] = async (...keysThenArgs) => {
      try {
        return await call(keysThenArgs);
      } catch (error) {
        if (!/Function not found/i.test((error as Error).message)) throw error;
        await load();
        return call(keysThenArgs);
      }
    };
  }
  return functions as T;
}
