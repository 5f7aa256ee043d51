import { spawn } from 'node:child_process';
import Redis from 'ioredis';
import { OwnServer, ServerLaunch } from './own-server';
import { scratchDir } from './scratch-dir';

/** A redis-server of the test's own (free port, own directory), to stop, kill and restart. */
export class PrivateRedis extends OwnServer {
  /** Where it keeps its append-only file (appendonlydir/): deleting that before a start is a start empty. */
  readonly directory = scratchDir('test-redis-');

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
        spawn(
          'redis-server',
          [
            '--port',
            String(port),
            '--bind',
            '127.0.0.1',
            '--dir',
            this.directory,
            '--save',
            '',
            '--appendonly',
            'yes',
            '--appendfsync',
            'always',
            ...this.extraArgs,
          ],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        ),
      ready: (port) => redisAnswers(`redis://127.0.0.1:${port}`),
    };
  }
}

/** Whether a Redis answers PING at this URL (one try, no retries, no offline queue). */
export async function redisAnswers(url: string): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}
