import 'reflect-metadata';
import 'dotenv/config';
import { loadAppConfig } from './config/app-config';
import { ConfigError } from './config/config.error';

/**
 * `npm run start:worker`: a process without HTTP that consumes the issuance queue. Only the
 * `queue` strategy has a queue; with the others there is nothing to consume.
 */
function main(): void {
  try {
    const config = loadAppConfig(process.env);
    console.error(`ISSUANCE_STRATEGY=${config.strategy} has no queue to consume; a worker is for the queue strategy`);
    process.exit(config.strategy === 'queue' ? 1 : 0);
  } catch (error) {
    console.error(error instanceof ConfigError ? error.message : `worker failed: ${String(error)}`);
    process.exit(1);
  }
}

main();
