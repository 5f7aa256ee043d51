import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { listenablePort } from '../../servers/ports';
import { scratchTmpEnv } from '../../servers/scratch-dir';
import { TEST_DATABASE_URL, TEST_JWT_SECRET, TEST_REDIS_URL } from '../setup/test-env';

const REPO = join(__dirname, '..', '..');

/**
 * A service entry point (src/main.ts or src/worker.ts) as a real process, from source (no build
 * needed); by default this repository's, or those of a copy of the project at `projectRoot`
 * (its own sources and node_modules, run from there as `npm start` would be).
 */
function startServiceProcess(entry: 'main' | 'worker', env: Record<string, string>, stdout: 'ignore' | 'pipe', projectRoot?: string): ChildProcess {
  const root = projectRoot ?? REPO;
  const tsNode = require.resolve('ts-node/register/transpile-only', { paths: [root] });
  return spawn(process.execPath, ['-r', tsNode, join(root, 'src', `${entry}.ts`)], {
    cwd: projectRoot,
    env: {
      PATH: process.env.PATH,
      ...scratchTmpEnv(),
      TS_NODE_PROJECT: join(root, 'tsconfig.json'), // found from any cwd
      NODE_ENV: 'test',
      DATABASE_URL: TEST_DATABASE_URL,
      REDIS_URL: TEST_REDIS_URL,
      JWT_SECRET_KEY: TEST_JWT_SECRET,
      LOG_LEVEL: 'error',
      RATE_LIMIT_SIGNUP_PER_HOUR: '0',
      ...env,
    },
    stdio: ['ignore', stdout, 'inherit'],
  });
}

/** `npm run start:worker` as a real process, to kill at will. */
export function startWorkerProcess(env: Record<string, string> = {}): ChildProcess {
  return startServiceProcess('worker', { ISSUANCE_STRATEGY: 'queue', ...env }, 'ignore');
}

/** What an API process has written to stdout is kept up to this much (its tail). */
const OUTPUT_KEPT = 4 * 1024 * 1024;

export interface ApiProcess {
  child: ChildProcess;
  baseUrl: string;
  /** Its stdout since it started (the log lines). Always read, so that a full pipe never blocks the process. */
  output: () => string;
}

/**
 * `npm start` as a real process on a free port, its stdout kept for the test to read; from a copy
 * of the project when `projectRoot` is given (where an embedded database keeps its `.data/`),
 * ready once `/health/live` answers.
 */
export async function startApiProcess(env: Record<string, string> = {}, projectRoot?: string): Promise<ApiProcess> {
  const port = await listenablePort();
  const child = startServiceProcess('main', { PORT: String(port), ...env }, 'pipe', projectRoot);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-OUTPUT_KEPT)));
  const baseUrl = `http://127.0.0.1:${port}`;
  for (let waited = 0; ; waited += 100) {
    if (child.exitCode !== null) throw new Error(`the API exited with ${child.exitCode} during start-up`);
    const ok = await fetch(`${baseUrl}/health/live`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { child, baseUrl, output: () => output };
    if (waited > 90_000) throw new Error('the API did not answer /health/live within 90 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}
