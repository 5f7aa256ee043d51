import cluster, { Worker } from 'node:cluster';
import type { AppConfig } from '../config/app-config';
import { startEmbeddedPostgres } from '../database/embedded/quick-start-postgres';
import { LISTEN, MAY_I_LISTEN } from './cluster-port';
import { createRootLogger } from './logger';

/** A process that dies is started again after this long (unless the service is stopping). */
const RESTART_AFTER_MS = 1000;

/**
 * API_PROCESSES > 1: this process becomes the primary of Node's cluster and runs that many API
 * processes on the one port (the primary accepts connections and hands them out in turn), so one
 * host uses every core. The primary serves nothing itself. It holds the port (main.ts reserved it)
 * until the first API process is ready to listen, starts the embedded PostgreSQL once (the API
 * processes connect to it), starts a process again when one dies, and on SIGTERM/SIGINT passes the
 * signal on and exits once all have closed gracefully. A process that dies before any has ever
 * listened (a configuration PostgreSQL refuses, say) stops the whole service instead of looping.
 */
export async function runApiProcesses(config: AppConfig, count: number, reservation: { release(): Promise<void> }): Promise<void> {
  const log = createRootLogger(config.logLevel).child({ context: 'ApiProcesses' });
  const stopEmbedded = config.database.embedded ? await startEmbeddedPostgres() : undefined;
  // every API process finds the database configured: the embedded one, already running
  const env = config.database.embedded ? { DATABASE_URL: config.database.url } : {};
  let released = false;
  let everListened = false;
  let stopping = false;

  const finish = async (code: number) => {
    await stopEmbedded?.();
    process.exit(code);
  };
  const fork = (): Worker => cluster.fork(env);

  cluster.on('message', (worker, message) => {
    if (message !== MAY_I_LISTEN) return;
    const go = () => worker.send(LISTEN);
    if (released) return go();
    released = true;
    void reservation.release().then(go);
  });
  cluster.on('listening', () => (everListened = true));
  cluster.on('exit', (worker, code, signal) => {
    const left = Object.keys(cluster.workers ?? {}).length;
    if (stopping) {
      if (left === 0) void finish(0);
      return;
    }
    if (!everListened) {
      log.error(`API process ${worker.process.pid} ended before any listened (${signal ?? code}): stopping`);
      stopping = true;
      for (const other of Object.values(cluster.workers ?? {})) other?.kill('SIGTERM');
      if (left === 0) void finish(1);
      return;
    }
    log.warn(`API process ${worker.process.pid} ended (${signal ?? code}); starting another`);
    setTimeout(() => !stopping && fork(), RESTART_AFTER_MS).unref();
  });
  const stop = () => {
    if (stopping) return;
    stopping = true;
    const workers = Object.values(cluster.workers ?? {});
    if (workers.length === 0) void finish(0);
    for (const worker of workers) worker?.process.kill('SIGTERM');
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  for (let i = 0; i < count; i++) fork();
  log.info(`running ${count} API processes on :${config.http.port}`);
}
