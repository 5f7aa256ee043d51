import { rmSync } from 'node:fs';
import { ROOT_RUNTIME_DIR } from '../../src/database/embedded/postgres-binaries';
import { forgetRunState, runState } from './run-state';
import { stopServices } from './test-services';

/** Stops what the setup started and removes what the run wrote outside the project. */
export default async function globalTeardown(): Promise<void> {
  if (runState.services) await stopServices(runState.services);
  if (runState.scratchDir) rmSync(runState.scratchDir, { recursive: true, force: true });
  // As root, the embedded PostgreSQL binaries (and the quick-start test's data) go here; a run that
  // found no such directory leaves none behind.
  if (runState.runtimeDirExisted === false) rmSync(ROOT_RUNTIME_DIR, { recursive: true, force: true });
  forgetRunState();
}
