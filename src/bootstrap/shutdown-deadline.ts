import { Logger } from '@nestjs/common';

/**
 * The longest a graceful stop may take. The requests in flight get 10 s (graceful-close.ts) and
 * the queue's jobs in hand 10 s (IssueProcessor.close); the steps around them are short.
 */
const SHUTDOWN_DEADLINE_MS = 25_000;

/**
 * A stop still under way that long after SIGTERM or SIGINT (a dependency that never answers, a
 * step waiting on another) is cut short: the process exits with 1, saying so. Nothing is lost by
 * it: what the process had in hand is taken up by another, as after a crash (leases, redelivery).
 */
export function exitIfStopHangs(processName: string): void {
  const arm = (signal: NodeJS.Signals) =>
    setTimeout(() => {
      new Logger('Shutdown').error(`${processName}: still stopping ${SHUTDOWN_DEADLINE_MS} ms after ${signal}: exiting now`);
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
  process.once('SIGTERM', arm);
  process.once('SIGINT', arm);
}
