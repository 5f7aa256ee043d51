import type { NestFastifyApplication } from '@nestjs/platform-fastify';

const SWEEP_IDLE_EVERY_MS = 100;
/** In-flight requests get this long to finish once shutdown starts; then their sockets are cut. */
const DRAIN_DEADLINE_MS = 10_000;

/**
 * On SIGTERM (app.close()), the HTTP server stops accepting, the requests in flight finish, and
 * then their keep-alive sockets are closed as soon as each goes idle. Node closes only the sockets
 * idle at the moment close() is called; without this, a socket that finished its last request a
 * moment later would hold the process open until the keep-alive timeout (72 s).
 */
export function closeGracefully(app: NestFastifyApplication): void {
  const fastify = app.getHttpAdapter().getInstance();
  let sweeper: NodeJS.Timeout | undefined;
  let deadline: NodeJS.Timeout | undefined;
  fastify.addHook('preClose', (done) => {
    const server = fastify.server;
    sweeper = setInterval(() => server.closeIdleConnections(), SWEEP_IDLE_EVERY_MS);
    deadline = setTimeout(() => server.closeAllConnections(), DRAIN_DEADLINE_MS);
    sweeper.unref();
    deadline.unref();
    done();
  });
  fastify.addHook('onClose', (_instance, done) => {
    clearInterval(sweeper);
    clearTimeout(deadline);
    done();
  });
}
