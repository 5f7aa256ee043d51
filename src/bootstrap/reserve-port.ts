import { createServer, Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const RETRY_FOR_MS = 5000;
const RETRY_EVERY_MS = 50;

function bind(port: number, host: string): Promise<Server> {
  // Anything that connects before the real server listens is dropped at once, so it retries
  // soon (a health probe) and nothing keeps the placeholder open.
  const holder = createServer((socket) => socket.destroy());
  return new Promise((resolve, reject) => {
    holder.once('error', reject);
    holder.listen({ port, host, exclusive: true }, () => resolve(holder));
  });
}

/**
 * Binds the service's port first thing, before start-up loads its modules and opens connections.
 * Why (both seen under CI, where ports are picked at random and many fall inside Linux's ephemeral
 * range, 32768-60999): until something listens on a port, a local connection can take that same
 * port for itself. That happens to the service's own PostgreSQL/Redis connections opened during
 * start-up, and to a health probe connecting to the port too early (TCP self-connect, which lasts
 * a few milliseconds). Either way, listening failed with EADDRINUSE. A bound port is never given
 * out as a local one, so binding first closes the gap, and a bind refused for a moment is retried
 * for up to RETRY_FOR_MS. `release()` frees the port just before the real server listens.
 */
export async function reservePort(port: number, host: string): Promise<{ release(): Promise<void> }> {
  if (port === 0) return { release: async () => undefined };
  for (const started = Date.now(); ; await sleep(RETRY_EVERY_MS)) {
    try {
      const holder = await bind(port, host);
      return { release: () => new Promise<void>((resolve) => holder.close(() => resolve())) };
    } catch (error) {
      const inUse = (error as { code?: string }).code === 'EADDRINUSE';
      if (!inUse || Date.now() - started > RETRY_FOR_MS) throw error;
    }
  }
}
