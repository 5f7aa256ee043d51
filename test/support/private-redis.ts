import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Redis from 'ioredis';

/** A redis-server of the test's own (random port, own directory), to stop, kill and restart. */
export class PrivateRedis {
  readonly port = 41000 + Math.floor(Math.random() * 9000);
  readonly url = `redis://127.0.0.1:${this.port}`;
  private readonly dir = mkdtempSync(join(tmpdir(), 'test-redis-'));
  private process?: ChildProcess;

  constructor(private readonly extraArgs: string[] = []) {}

  async start(): Promise<void> {
    this.process = spawn('redis-server', [
      '--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--appendonly', 'yes',
      '--appendfsync', 'always', ...this.extraArgs,
    ], { stdio: 'ignore' });
    const probe = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    for (let i = 0; i < 100; i++) {
      try {
        await probe.connect();
        await probe.ping();
        probe.disconnect();
        return;
      } catch {
        probe.disconnect();
        await sleep(50);
      }
    }
    throw new Error(`redis-server on ${this.port} did not start`);
  }

  /** SIGKILL: no shutdown, no final save; the append-only file has what was fsynced. */
  async kill(): Promise<void> {
    const p = this.process;
    if (!p || p.exitCode !== null || p.signalCode !== null) return; // gone already (a SIGKILL sets signalCode, not exitCode)
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
}
