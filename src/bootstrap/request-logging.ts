import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from 'pino';
// nestjs-pino keeps the current request's logger in this AsyncLocalStorage; PinoLogger reads it.
import { storage, Store } from 'nestjs-pino/storage';

/**
 * At `debug`, binds every request to a child logger carrying its `requestId` (Fastify's id: the
 * caller's X-Request-Id, or a new UUID; the one error bodies show), so every line logged while it
 * is handled, by any `new Logger(...)`, says which request it belongs to; and each request ends
 * with one summary line (method, URL, status, time). Headers and bodies are never logged.
 *
 * Only at `debug`: the binding is an AsyncLocalStorage, and once one is entered Node runs its
 * hooks for every promise the process makes, a twentieth of an issue's CPU (profiled), paid by
 * every request to label the few lines logged above `debug`. Those are the exception filter's
 * (500s, 503s), and it names the request itself.
 *
 * Done with a Fastify hook rather than nestjs-pino's pino-http middleware: on this stack the
 * middleware layer (middie) and two child loggers per request halved the requests per second of a
 * trivial route. Here the child logger is made only when something logs.
 */
export function logRequests(app: NestFastifyApplication, root: Logger): void {
  if (!root.isLevelEnabled('debug')) return;
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', (request, _reply, done) => {
    let child: Logger | undefined;
    const store = {
      get logger() {
        return (child ??= root.child({ requestId: request.id }));
      },
      set logger(replacement: Logger) {
        child = replacement; // PinoLogger.assign() adds fields this way
      },
    } as Store;
    storage.run(store, done);
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    root.debug(
      {
        requestId: request.id,
        req: { method: request.method, url: request.url },
        res: { statusCode: reply.statusCode },
        responseTime: Math.round(reply.elapsedTime),
      },
      'request completed',
    );
    done();
  });
}
