import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { hasExited, launch, launchOnFreePort, ServerLaunch } from './own-server';

/** A redis-server of the test's own (free port, own directory), to stop, kill and restart. */
export class PrivateRedis {
  private chosenPort?: number;
  private readonly dir = mkdtempSync(join(tmpdir(), 'test-redis-'));
  private process?: ChildProcess;

  constructor(private readonly extraArgs: string[] = []) {}

  get port(): number {
    if (this.chosenPort === undefined) throw new Error('PrivateRedis: start() it first');
    return this.chosenPort;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** The first start picks the port; a start after kill() comes back on the same one, with its append-only file. */
  async start(): Promise<void> {
    if (this.chosenPort !== undefined) {
      this.process = await launch(this.server(), this.chosenPort);
      return;
    }
    const { child, port } = await launchOnFreePort(this.server());
    this.process = child;
    this.chosenPort = port;
  }

  /** SIGKILL: no shutdown, no final save; the append-only file has what was fsynced. */
  async kill(): Promise<void> {
    const p = this.process;
    if (!p || hasExited(p)) return; // gone already (a SIGKILL sets signalCode, not exitCode)
    const exited = new Promise((resolve) => p.once('exit', resolve));
    p.kill('SIGKILL');
    await exited;
  }

  /** SIGSTOP: the server hangs with its connections open (a stalled host, a long fork). */
  pause(): void {
    this.process?.kill('SIGSTOP');
  }

  resume(): void {
    this.process?.kill('SIGCONT');
  }

  private server(): ServerLaunch {
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
