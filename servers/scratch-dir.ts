import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A new directory for a server of a test's own. They all sit in one directory per run
 * (TEST_SCRATCH_DIR, made by the global setup and removed by the global teardown), so a run
 * leaves the machine's temporary directory as it found it, even when a test did not clean up.
 */
export function scratchDir(prefix: string): string {
  return mkdtempSync(join(process.env.TEST_SCRATCH_DIR ?? tmpdir(), prefix));
}

/** The run's parent directory; traversable, since PostgreSQL may run as another account inside it. */
export function makeRunScratchDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'coupon-tests-'));
  chmodSync(dir, 0o755);
  return dir;
}

/** For a child process's environment: its temporary files (ts-node's compile cache among them) go with the run's. */
export function scratchTmpEnv(): { TMPDIR?: string } {
  return process.env.TEST_SCRATCH_DIR ? { TMPDIR: process.env.TEST_SCRATCH_DIR } : {};
}
