import { execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { OwnServer, ServerLaunch } from './own-server';

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
 * A PostgreSQL server of the test's own (own data directory, free port, trust auth), to stop
 * mid-run and start again. Costs an initdb (a few seconds).
 */
export class PrivatePostgres extends OwnServer {
  private readonly dir = mkdtempSync(join(tmpdir(), 'test-pg-'));
  private readonly user = runAs();

  constructor() {
    super(30_000); // a start after an immediate stop runs crash recovery first
    if (this.user.uid !== undefined) chownSync(this.dir, this.user.uid, this.user.gid!);
    execFileSync(join(binDir(), 'initdb'), ['-D', join(this.dir, 'data'), '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8'], {
      ...this.user,
      stdio: 'ignore',
    });
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** 'fast': a clean shutdown that cuts every session; 'immediate': no checkpoint, as a crash (recovery on start). */
  stop(how: 'fast' | 'immediate' = 'fast'): Promise<void> {
    return this.stopWith(how === 'fast' ? 'SIGINT' : 'SIGQUIT');
  }

  async destroy(): Promise<void> {
    await this.stop('fast');
    rmSync(this.dir, { recursive: true, force: true });
  }

  protected server(): ServerLaunch {
    return {
      name: 'PostgreSQL',
      spawn: (port) =>
        spawn(
          join(binDir(), 'postgres'),
          ['-D', join(this.dir, 'data'), '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-k', this.dir, '-c', 'fsync=off'],
          { ...this.user, stdio: ['ignore', 'pipe', 'pipe'] },
        ),
      ready: async (port) => {
        const client = new Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
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
      },
    };
  }
}
