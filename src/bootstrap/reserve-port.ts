import { createServer, Server } from 'node:net';

/**
 * Binds the service's port before start-up opens any outgoing connection. Why: start-up connects
 * to PostgreSQL and Redis first, and the kernel gives those connections local ports from its
 * ephemeral range (32768-60999 here). A port the service means to listen on inside that range can
 * be taken by its own pool a moment earlier, and listening then fails with EADDRINUSE (seen under
 * CI). A bound port is never handed out as an ephemeral one. `release()` frees it just before
 * the real server listens, when no new connection is being opened.
 */
export async function reservePort(port: number, host: string): Promise<{ release(): Promise<void> }> {
  if (port === 0) return { release: async () => undefined };
  const holder: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    holder.once('error', reject);
    holder.listen({ port, host, exclusive: true }, () => resolve());
  });
  return { release: () => new Promise<void>((resolve) => holder.close(() => resolve())) };
}
