import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { until } from './burst';

const ESTABLISHED = '01';

/**
 * The connections a server process has accepted on its port, with how many bytes of each the
 * kernel still holds unread (Linux: /proc/<pid>/fd and /proc/net/tcp*). Unread 0 on an accepted
 * connection means the process has taken in all that was sent on it.
 */
function acceptedConnections(pid: number, port: number): { unread: number }[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
      if (inode) inodes.add(inode);
    } catch {
      // closed meanwhile
    }
  }
  const connections: { unread: number }[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').trim().split('\n').slice(1)) {
      const [, local, , state, queues, , , , , inode] = line.trim().split(/\s+/);
      if (state !== ESTABLISHED || parseInt(local.split(':').at(-1)!, 16) !== port || !inodes.has(inode)) continue;
      connections.push({ unread: parseInt(queues.split(':')[1], 16) });
    }
  }
  return connections;
}

/**
 * Waits until all `count` requests (one connection each) are in the server process's hands: answered
 * already (`answered()` counts those, whose connections are gone), or on a connection it has
 * accepted and read everything from, not waiting in the kernel's backlog.
 */
export function untilRequestsReceived(pid: number, port: number, count: number, answered: () => number, timeoutMs = 10_000): Promise<true> {
  return until(
    async () => {
      const connections = acceptedConnections(pid, port);
      return connections.length + answered() >= count && connections.every((c) => c.unread === 0) ? true : undefined;
    },
    { timeoutMs, everyMs: 20, what: `${count} requests received by process ${pid}` },
  );
}
