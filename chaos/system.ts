import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Redis, { Cluster } from 'ioredis';
import { Client } from 'pg';
import { listenablePort } from '../servers/ports';
import { PrivatePostgres } from '../servers/private-postgres';
import { PrivateRedis } from '../servers/private-redis';
import { PrivateRedisCluster } from '../servers/private-redis-cluster';
import type { Strategy } from './schedule';

const ROOT = join(__dirname, '..');

/** One service process (an API or a worker) that can be killed and started again on the same port. */
class ServiceProcess {
  private child?: ChildProcess;

  constructor(
    readonly name: string,
    private readonly entry: 'main' | 'worker',
    private readonly env: Record<string, string>,
    private readonly logFile: string,
    readonly port?: number,
  ) {}

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    const log = createWriteStream(this.logFile, { flags: 'a' });
    this.child = spawn(process.execPath, ['--max-old-space-size=256', join(ROOT, 'dist', `${this.entry}.js`)], {
      env: { PATH: process.env.PATH, ...this.env, ...(this.port ? { PORT: String(this.port) } : {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.pipe(log);
    this.child.stderr!.pipe(log);
    if (this.entry === 'main') await this.untilLive();
  }

  private async untilLive(): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`${this.name} exited during start-up (see ${this.logFile})`);
      const ok = await fetch(`${this.baseUrl}/health/live`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return;
      await sleep(100);
    }
    throw new Error(`${this.name} did not answer within 60 s (see ${this.logFile})`);
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }
}

export interface SystemOptions {
  strategy: Strategy;
  cluster: boolean;
  apis: number;
  workers: number;
  runDir: string;
  jwtSecret: string;
}

/**
 * Everything the service runs on, of the checker's own: a PostgreSQL (restartable), a Redis with
 * its append-only file (or a 6-node Redis Cluster), and the API and worker processes, built
 * (dist/) as `npm run start:prod` runs them. Each fault is one method.
 */
export class System {
  readonly postgres = new PrivatePostgres();
  private redis?: PrivateRedis;
  private redisCluster?: PrivateRedisCluster;
  readonly apis: ServiceProcess[] = [];
  readonly workers: ServiceProcess[] = [];

  constructor(private readonly o: SystemOptions) {}

  get databaseUrl(): string {
    return this.postgres.url;
  }

  async start(): Promise<void> {
    await this.postgres.start();
    const redisEnv: Record<string, string> = {};
    if (this.o.strategy !== 'pessimistic') {
      if (this.o.cluster) {
        this.redisCluster = new PrivateRedisCluster();
        await this.redisCluster.start();
        redisEnv.REDIS_CLUSTER_NODES = this.redisCluster.seeds;
      } else {
        this.redis = new PrivateRedis();
        await this.redis.start();
        redisEnv.REDIS_URL = this.redis.url;
      }
    }
    const env = {
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      DATABASE_URL: this.postgres.url,
      JWT_SECRET_KEY: this.o.jwtSecret,
      ISSUANCE_STRATEGY: this.o.strategy,
      // a person clicks a few times a second at most; the checker's users never pass these
      RATE_LIMIT_ISSUE_PER_SECOND: '50',
      RATE_LIMIT_READ_PER_SECOND: '500',
      SOLD_OUT_FLAG_MS: '100',
      ...redisEnv,
    };
    const workers = this.o.strategy === 'queue' ? this.o.workers : 0;
    for (let i = 0; i < this.o.apis; i++) {
      const port = await listenablePort();
      const api = new ServiceProcess(`api-${i}`, 'main', { ...env, RUN_WORKER: workers > 0 ? 'false' : 'true' }, join(this.o.runDir, `api-${i}.log`), port);
      await api.start(); // one at a time: the first migrates
      this.apis.push(api);
    }
    for (let i = 0; i < workers; i++) {
      const worker = new ServiceProcess(`worker-${i}`, 'worker', env, join(this.o.runDir, `worker-${i}.log`));
      await worker.start();
      this.workers.push(worker);
    }
  }

  /** A client of the service's Redis (one server or the cluster), for the checks. */
  redisClient(): Redis | Cluster | undefined {
    if (this.redis) return new Redis(this.redis.url, { maxRetriesPerRequest: 3 });
    if (this.redisCluster) {
      const [host, port] = this.redisCluster.seeds.split(',')[0].split(':');
      return new Cluster([{ host, port: Number(port) }], { redisOptions: { maxRetriesPerRequest: 3 } });
    }
    return undefined;
  }

  // --- faults: each returns once the fault is over (the part that is down is up again)

  async killApi(i: number, downMs: number): Promise<void> {
    await this.apis[i].kill();
    await sleep(downMs);
    await this.apis[i].start();
  }

  async killWorker(i: number, downMs: number): Promise<void> {
    await this.workers[i].kill();
    await sleep(downMs);
    await this.workers[i].start();
  }

  /** FLUSHALL: Redis forgets everything at once, and goes on serving. */
  async redisFlush(): Promise<void> {
    const client = new Redis(this.redis!.url, { maxRetriesPerRequest: 1 });
    try {
      await client.flushall();
    } finally {
      client.disconnect();
    }
  }

  /** SIGKILL, then a start from the append-only file (fsync always: nothing acknowledged is lost). */
  async redisRestart(downMs: number, { empty }: { empty: boolean }): Promise<void> {
    await this.redis!.kill();
    if (empty) rmSync(join(this.redis!.directory, 'appendonlydir'), { recursive: true, force: true });
    await sleep(downMs);
    await this.redis!.start();
  }

  /** CLIENT PAUSE on every master: commands hang for a while (a stalled host, a long fork). */
  async redisPause(ms: number): Promise<void> {
    const ports = this.redis ? [this.redis.port] : await this.redisCluster!.masterPorts();
    await Promise.all(
      ports.map(async (port) => {
        const client = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 });
        try {
          await client.call('CLIENT', 'PAUSE', String(ms), 'ALL');
        } finally {
          client.disconnect();
        }
      }),
    );
    await sleep(ms);
  }

  /** SIGKILL of the master holding the coupon's keys; its replica takes over; it rejoins later. */
  async clusterMasterKill(couponId: number, downMs: number): Promise<void> {
    const port = await this.redisCluster!.killMasterOf(`coupon:{${couponId}}:meta`);
    await sleep(Math.max(downMs, 4000)); // the failover itself takes the node timeout and more
    await this.redisCluster!.restart(port);
  }

  /** A transaction holds the coupon's row lock for a while (a long admin statement, a stuck client). */
  async rowLock(couponId: number, ms: number): Promise<void> {
    const client = new Client({ connectionString: this.postgres.url });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('BEGIN');
      await client.query('SELECT 1 FROM coupons WHERE id = $1 FOR UPDATE', [couponId]);
      await sleep(ms);
      await client.query('COMMIT');
    } catch {
      // PostgreSQL restarted under it, or the coupon is gone: the fault is over either way
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /** An immediate stop (as a crash: recovery at start), then a start on the same port. */
  async postgresRestart(downMs: number): Promise<void> {
    await this.postgres.stop('immediate');
    await sleep(downMs);
    await this.postgres.start();
  }

  /** Everything that a fault left down is up again (before the final checks). */
  async heal(): Promise<void> {
    for (const p of [...this.apis, ...this.workers]) if (!p.running) await p.start();
  }

  async stop(): Promise<void> {
    for (const p of [...this.apis, ...this.workers]) await p.kill('SIGKILL').catch(() => undefined);
    await this.redis?.kill().catch(() => undefined);
    await this.redisCluster?.stop().catch(() => undefined);
    await this.postgres.destroy().catch(() => undefined);
  }
}
