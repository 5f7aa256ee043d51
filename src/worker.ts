import 'reflect-metadata';
import 'dotenv/config';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { createRootLogger, nestLogger } from './bootstrap/logger';
import { logFatalErrors } from './bootstrap/crash-log';
import { exitIfStopHangs } from './bootstrap/shutdown-deadline';
import { loadAppConfigOrExit } from './config/app-config';
import { dataSourceOptions } from './database/data-source-options';
import { runMigrationsExclusively } from './database/run-migrations';
import { QueueWorkerModule } from './queue-worker/queue-worker.module';

/**
 * `npm run start:worker`: a process without HTTP that consumes the issuance queue (and sweeps
 * accepted requests that lost their job). Start any number of them beside API processes run with
 * RUN_WORKER=false. SIGTERM finishes the jobs in hand before exiting.
 */
async function main(): Promise<void> {
  logFatalErrors('worker');
  const config = loadAppConfigOrExit(process.env);
  if (config.issuance.strategy !== 'queue') {
    console.error(`Invalid configuration: ISSUANCE_STRATEGY must be queue for a worker (it is ${config.issuance.strategy}, which has no queue)`);
    process.exit(1);
  }
  // the migration step below logs too: at LOG_LEVEL, as JSON, like the rest of the process
  const logger = nestLogger(createRootLogger(config.logLevel));
  Logger.overrideLogger(logger);
  // The context initialises everything at creation, so the schema must exist first (a worker may
  // start before any API instance has migrated).
  const migrator = new DataSource(dataSourceOptions(config.database));
  await migrator.initialize();
  try {
    await runMigrationsExclusively(migrator);
  } finally {
    await migrator.destroy();
  }
  const app = await NestFactory.createApplicationContext(QueueWorkerModule.forWorkerProcess(config), { logger, abortOnError: false });
  app.enableShutdownHooks();
  exitIfStopHangs('worker');
}

main().catch((error) => {
  console.error(`worker start-up failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
