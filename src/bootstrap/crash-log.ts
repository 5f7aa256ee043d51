/**
 * Anything that escapes every handler ends the process (Node's default), but first leaves one
 * line saying why, so a start-up that dies under a process manager can be explained.
 */
export function logFatalErrors(processName: string): void {
  const die = (kind: string) => (error: unknown) => {
    console.error(`${processName}: ${kind}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  };
  process.on('uncaughtException', die('uncaught exception'));
  process.on('unhandledRejection', die('unhandled rejection'));
}
