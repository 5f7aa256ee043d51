import 'reflect-metadata';
import 'dotenv/config';
import { Logger } from '@nestjs/common';
import { createApp } from './bootstrap/create-app';
import { logFatalErrors } from './bootstrap/crash-log';
import { reservePort } from './bootstrap/reserve-port';
import { loadAppConfigOrExit } from './config/app-config';
import { startEmbeddedPostgres } from './database/embedded-postgres';

async function main(): Promise<void> {
  logFatalErrors('api');
  const config = loadAppConfigOrExit(process.env);
  const host = '0.0.0.0';
  const port = await reservePort(config.port, host); // before any connection is opened
  const stopEmbedded = config.database.embedded ? await startEmbeddedPostgres() : undefined;
  const app = await createApp(config);
  await port.release();
  await app.listen({ port: config.port, host });
  new Logger('Main').log(`listening on :${config.port} with ISSUANCE_STRATEGY=${config.strategy}`);
  if (stopEmbedded) {
    const stop = async () => {
      await app.close();
      await stopEmbedded();
      process.exit(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  }
}

main().catch((error) => {
  console.error(`start-up failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
