import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * A port on 127.0.0.1 that nothing listens on now and that outgoing connections will not take.
 *
 * Linux gives outgoing connections local ports from its ephemeral range (32768-60999 unless
 * changed). A server told to listen on a port in that range can find it held by some client's
 * connection, so this picks from 20000-32767 minus whatever the range is now, and checks that it
 * can be bound. (The acceptance harness keeps below 32768 too.)
 */
export async function listenablePort(): Promise<number> {
  const [low, high] = ephemeralRange();
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 12768);
    if (port >= low && port <= high) continue;
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port in 20000-32767 outside the ephemeral range ${low}-${high}`);
}

function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return [low, high];
  } catch {
    return [32768, 60999];
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
