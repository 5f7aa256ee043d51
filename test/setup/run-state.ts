import type { StartedServices } from './test-services';

interface RunState {
  prepared?: boolean;
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

/** After the teardown: a second teardown of the same run finds nothing left to undo. */
export function forgetRunState(): void {
  for (const key of Object.keys(runState) as (keyof RunState)[]) delete runState[key];
}
