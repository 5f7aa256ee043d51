/**
 * Redis being down, restarting, loading its append-only file or too slow, or a cluster in the
 * middle of a failover (slots moving, redirections running out): an outage, not a bug. These
 * become 503 UNAVAILABLE. (ioredis reports them as plain Errors with these messages.)
 */
export function isRedisUnavailable(error: unknown): boolean {
  const message = error instanceof Error ? error.message : '';
  const code = (error as { code?: unknown } | null)?.code;
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(code as string) ||
    /Stream isn't writeable|Connection is closed|Command timed out|max retries per request|LOADING|MISCONF|OOM command not allowed|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|READONLY|BUSY|^MOVED |^ASK |Too many Cluster redirections|Failed to refresh slots cache|None of startup nodes is available/i.test(
      message,
    )
  );
}
