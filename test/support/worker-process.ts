import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { TEST_DATABASE_URL, TEST_JWT_SECRET, TEST_REDIS_URL } from '../setup/test-env';

/** `npm run start:worker` as a real process (from source, so no build is needed), to kill at will. */
export function startWorkerProcess(env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, '..', '..', 'src', 'worker.ts')], {
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      DATABASE_URL: TEST_DATABASE_URL,
      REDIS_URL: TEST_REDIS_URL,
      JWT_SECRET_KEY: TEST_JWT_SECRET,
      ISSUANCE_STRATEGY: 'queue',
      LOG_LEVEL: 'error',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

export async function kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}
