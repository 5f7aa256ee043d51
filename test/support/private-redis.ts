import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { OwnServer, ServerLaunch } from './own-server';

/** A redis-server of the test's own (free port, own directory), to stop, kill and restart. */
export class PrivateRedis extends OwnServer {
  private readonly dir = mkdtempSync(join(tmpdir(), 'test-redis-'));

  constructor(private readonly extraArgs: string[] = []) {
    super();
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** SIGKILL: no shutdown, no final save; the append-only file has what was fsynced. */
  kill(): Promise<void> {
    return this.stopWith('SIGKILL');
  }

  /** SIGSTOP: the server hangs with its connections open (a stalled host, a long fork). */
  pause(): void {
    this.signal('SIGSTOP');
  }

  resume(): void {
    this.signal('SIGCONT');
  }

  protected server(): ServerLaunch {
    return {
      name: 'redis-server',
      spawn: (port) =>
        spawn('redis-server', [
          '--port', String(port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--appendonly', 'yes',
          '--appendfsync', 'always', ...this.extraArgs,
        ], { stdio: ['ignore', 'pipe', 'pipe'] }),
      ready: async (port) => {
        const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        probe.on('error', () => undefined);
        try {
          await probe.connect();
          return (await probe.ping()) === 'PONG';
        } catch {
          return false;
        } finally {
          probe.disconnect();
        }
      },
    };
  }
}
