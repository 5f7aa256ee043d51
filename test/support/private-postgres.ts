import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';

/** Debian's server binaries (the machine's PostgreSQL), whatever the major version. */
function binDir(): string {
  const root = '/usr/lib/postgresql';
  const version = existsSync(root) ? readdirSync(root).sort().at(-1) : undefined;
  if (!version) throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql');
  return join(root, version, 'bin');
}

/** PostgreSQL refuses to run as root: as root, run it as the `postgres` account. */
function runAs(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  return { uid: Number(execFileSync('id', ['-u', 'postgres'])), gid: Number(execFileSync('id', ['-g', 'postgres'])) };
}

/**
 * A PostgreSQL server of the test's own (own data directory, random port, trust auth), to stop
 * mid-run and start again. Costs an initdb (a few seconds).
 */
export class PrivatePostgres {
  readonly port = 42000 + Math.floor(Math.random() * 8000);
  readonly url = `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  private readonly dir = mkdtempSync(join(tmpdir(), 'test-pg-'));
  private readonly user = runAs();
  private process?: ChildProcess;

  constructor() {
    if (this.user.uid !== undefined) chownSync(this.dir, this.user.uid, this.user.gid!);
    execFileSync(join(binDir(), 'initdb'), ['-D', join(this.dir, 'data'), '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8'], {
      ...this.user,
      stdio: 'ignore',
    });
  }

  async start(): Promise<void> {
    this.process = spawn(
      join(binDir(), 'postgres'),
      ['-D', join(this.dir, 'data'), '-p', String(this.port), '-c', 'listen_addresses=127.0.0.1', '-k', this.dir, '-c', 'fsync=off'],
      { ...this.user, stdio: 'ignore' },
    );
    for (let i = 0; i < 200; i++) {
      const client = new Client({ connectionString: this.url });
      try {
        await client.connect();
        await client.query('SELECT 1');
        await client.end();
        return;
      } catch {
        await client.end().catch(() => undefined);
        await sleep(50);
      }
    }
    throw new Error(`PostgreSQL on ${this.port} did not start`);
  }

  /** 'fast': a clean shutdown that cuts every session; 'immediate': no checkpoint, as a crash (recovery on start). */
  async stop(how: 'fast' | 'immediate' = 'fast'): Promise<void> {
    const p = this.process;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((resolve) => p.once('exit', resolve));
    p.kill(how === 'fast' ? 'SIGINT' : 'SIGQUIT');
    await exited;
  }

  async destroy(): Promise<void> {
    await this.stop('fast');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
