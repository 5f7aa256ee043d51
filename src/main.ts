// Kept light on purpose: the port is bound before the framework is even loaded (see
// bootstrap/reserve-port.ts), then the server module comes in.
import 'dotenv/config';
import { logFatalErrors } from './bootstrap/crash-log';
import { reservePort } from './bootstrap/reserve-port';
import { loadAppConfigOrExit } from './config/app-config';

async function main(): Promise<void> {
  logFatalErrors('api');
  const config = loadAppConfigOrExit(process.env);
  const host = '0.0.0.0';
  const port = await reservePort(config.port, host);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only after the port is bound
  const { startServer } = require('./server') as typeof import('./server');
  await startServer(config, host, port.release);
}

main().catch((error) => {
  console.error(`start-up failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
