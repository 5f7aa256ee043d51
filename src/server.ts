import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createApp } from './bootstrap/create-app';
import type { AppConfig } from './config/app-config';
import { startEmbeddedPostgres } from './database/embedded/quick-start-postgres';
import { exitIfStopHangs } from './bootstrap/shutdown-deadline';

/** Starts the API on a port main.ts has already reserved (and releases it when ready to listen). */
export async function startServer(config: AppConfig, host: string, release: () => Promise<void>): Promise<void> {
  const stopEmbedded = config.database.embedded ? await startEmbeddedPostgres() : undefined;
  const app = await createApp(config);
  await release();
  await app.listen({ port: config.http.port, host });
  new Logger('Main').log(`listening on :${config.http.port} with ISSUANCE_STRATEGY=${config.issuance.strategy}`);
  exitIfStopHangs('api');
  if (!stopEmbedded) {
    app.enableShutdownHooks(); // SIGTERM/SIGINT: a graceful close (bootstrap/graceful-close.ts)
    return;
  }
  // The same close, and then the embedded PostgreSQL, once the app's connections to it are gone
  // (with Nest's hooks as well, both would close the app at once, and PostgreSQL could stop first).
  const stop = async () => {
    await app.close();
    await stopEmbedded();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
