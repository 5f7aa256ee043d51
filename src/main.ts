// Kept light on purpose: the port is bound before the framework is even loaded (see
// bootstrap/reserve-port.ts), then the server module comes in.
import 'dotenv/config';
import cluster from 'node:cluster';
import { portFromPrimary } from './bootstrap/cluster-port';
import { logFatalErrors } from './bootstrap/crash-log';
import { reservePort } from './bootstrap/reserve-port';
import { type AppConfig, loadAppConfigOrExit } from './config/app-config';

async function main(): Promise<void> {
  logFatalErrors('api');
  const config = loadAppConfigOrExit(process.env);
  const host = '0.0.0.0';
  // one of API_PROCESSES: the primary holds the port, and says when to listen on it
  if (cluster.isWorker) return startServerModule(config, host, portFromPrimary().release);
  const port = await reservePort(config.http.port, host);
  if (config.http.apiProcesses > 1) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only after the port is bound
    const { runApiProcesses } = require('./bootstrap/api-processes') as typeof import('./bootstrap/api-processes');
    return runApiProcesses(config, config.http.apiProcesses, port);
  }
  await startServerModule(config, host, port.release);
}

async function startServerModule(config: AppConfig, host: string, release: () => Promise<void>): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only after the port is bound
  const { startServer } = require('./server') as typeof import('./server');
  await startServer(config, host, release);
}

main().catch((error) => {
  console.error(`start-up failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
