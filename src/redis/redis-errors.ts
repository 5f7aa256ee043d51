/**
 * Redis being down, restarting, loading its append-only file or too slow: an outage, not a bug.
 * These become 503 UNAVAILABLE. (ioredis reports them as plain Errors with these messages.)
 */
export function isRedisUnavailable(error: unknown): boolean {
  const message = error instanceof Error ? error.message : '';
  const code = (error as { code?: unknown } | null)?.code;
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(code as string) ||
    /Stream isn't writeable|Connection is closed|Command timed out|max retries per request|LOADING|MISCONF|OOM command not allowed|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|READONLY|BUSY/i.test(
      message,
    )
  );
}
