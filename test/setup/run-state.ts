import type { StartedServices } from './test-services';

interface RunState {
  scratchDir?: string;
  runtimeDirExisted?: boolean;
  services?: StartedServices;
}

/**
 * What the global setup made and the global teardown undoes. Both run in Jest's parent process,
 * and Jest carries globals (not module state) from one to the other; test files do not see it.
 */
const holder = globalThis as { __couponTestRun?: RunState };
export const runState: RunState = (holder.__couponTestRun ??= {});
