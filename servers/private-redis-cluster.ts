import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { until } from './until';
import { listenablePort } from './ports';
import { PrivateRedis } from './private-redis';

const run = promisify(execFile);

/** Failover detection is quick enough for a test (the default is 15 s). */
const NODE_TIMEOUT_MS = 2000;

/**
 * A Redis Cluster of the test's own: 6 redis-server processes (3 masters, 3 replicas), each on a
 * free port below 32768 with an explicit bus port (the default, port + 10000, would land in the
 * ephemeral range), formed with `redis-cli --cluster create`.
 */
export class PrivateRedisCluster {
  private nodes: PrivateRedis[] = [];

  /** REDIS_CLUSTER_NODES for the service: every node as a seed. */
  get seeds(): string {
    return this.nodes.map((n) => `127.0.0.1:${n.port}`).join(',');
  }

  async start(): Promise<void> {
    for (let i = 0; i < 6; i++) {
      const busPort = await listenablePort();
      const node = new PrivateRedis([
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        'nodes.conf',
        '--cluster-node-timeout',
        String(NODE_TIMEOUT_MS),
        '--cluster-port',
        String(busPort),
        '--appendfsync',
        'everysec',
        // a replica's first sync starts at once (the default waits 5 s for more replicas): one
        // that never synced is not eligible to take over, and the failover would not happen
        '--repl-diskless-sync-delay',
        '0',
      ]);
      await node.start();
      this.nodes.push(node);
    }
    await run('redis-cli', ['--cluster', 'create', ...this.nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '1', '--cluster-yes']);
    await this.untilHealthy();
  }

  /**
   * Every live node says cluster_state:ok, all 16384 slots are served by masters that answer, and
   * every live replica is in sync with its master (only a synced replica can take over).
   */
  async untilHealthy(timeoutMs = 30_000): Promise<void> {
    await until(
      async () => {
        const live = new Set<number>();
        for (const node of this.nodes) {
          const info = await this.ask(node.port, 'CLUSTER', 'INFO').catch(() => undefined);
          if (info === undefined) continue; // a killed node does not answer
          live.add(node.port);
          if (!/cluster_state:ok/.test(String(info)) || !/cluster_slots_ok:16384/.test(String(info))) return undefined;
          const replication = String(await this.ask(node.port, 'INFO', 'replication'));
          if (/role:slave/.test(replication) && !/master_link_status:up/.test(replication)) return undefined;
        }
        const anyLive = [...live][0];
        const slots = (await this.ask(anyLive, 'CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
        return slots.every(([, , master]) => live.has(Number(master[1]))) ? true : undefined;
      },
      { timeoutMs, everyMs: 100, what: 'the Redis Cluster to be healthy' },
    );
  }

  /** The port of the master serving the slot of `key` now. */
  async masterPortOf(key: string): Promise<number> {
    let slot: number | undefined;
    for (const node of this.nodes) {
      slot ??= (await this.ask(node.port, 'CLUSTER', 'KEYSLOT', key).catch(() => undefined)) as number | undefined;
      if (slot === undefined) continue;
      const slots = (await this.ask(node.port, 'CLUSTER', 'SLOTS').catch(() => undefined)) as [number, number, [string, number]][] | undefined;
      const range = slots?.find(([from, to]) => slot! >= from && slot! <= to);
      if (range) return Number(range[2][1]);
    }
    throw new Error(`no node serves slot ${slot}`);
  }

  /** SIGKILLs the master of `key`'s slot; its replica takes over after the node timeout. */
  async killMasterOf(key: string): Promise<number> {
    const port = await this.masterPortOf(key);
    await this.nodes.find((n) => n.port === port)!.kill();
    return port;
  }

  /** Waits until the master of `key`'s slot has every replica of it online (in sync, acknowledging). */
  async untilReplicasOnline(key: string): Promise<void> {
    await until(
      async () => {
        const info = String(await this.ask(await this.masterPortOf(key), 'INFO', 'replication').catch(() => ''));
        const replicas = info.match(/^slave\d+:.*$/gm) ?? [];
        return replicas.length > 0 && replicas.every((line) => line.includes('state=online')) ? true : undefined;
      },
      { everyMs: 100, what: `the replicas of ${key}'s master online` },
    );
  }

  /**
   * SIGSTOPs the replicas of the master of `key`'s slot (their master still counts them online):
   * nothing written there is confirmed by a replica (WAIT) until the function returned is called.
   */
  async pauseReplicasOf(key: string): Promise<() => void> {
    const role = (await this.ask(await this.masterPortOf(key), 'ROLE')) as [string, number, [string, string, string][]];
    const replicas = role[2].map(([, port]) => this.nodes.find((n) => n.port === Number(port))!);
    for (const replica of replicas) replica.pause();
    return () => replicas.forEach((replica) => replica.resume());
  }

  /** Starts a killed node again on its port, with its data: it rejoins, as a replica of whoever took over. */
  async restart(port: number): Promise<void> {
    await this.nodes.find((n) => n.port === port)!.start();
    await this.untilHealthy();
  }

  /** The ports of the nodes that are masters now. */
  async masterPorts(): Promise<number[]> {
    const ports: number[] = [];
    for (const node of this.nodes) {
      const role = await this.ask(node.port, 'ROLE').catch(() => undefined);
      if (Array.isArray(role) && role[0] === 'master') ports.push(node.port);
    }
    return ports;
  }

  /** How many keys each master holds (how campaigns spread over them). */
  async keysPerMaster(): Promise<number[]> {
    const counts: number[] = [];
    for (const node of this.nodes) {
      const role = await this.ask(node.port, 'ROLE').catch(() => undefined);
      if (Array.isArray(role) && role[0] === 'master') counts.push(Number(await this.ask(node.port, 'DBSIZE')));
    }
    return counts;
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill()));
  }

  private async ask(port: number, ...command: string[]): Promise<unknown> {
    const client = new Redis(port, '127.0.0.1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
      connectTimeout: 1000,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return await client.call(command[0], ...command.slice(1));
    } finally {
      client.disconnect();
    }
  }
}
