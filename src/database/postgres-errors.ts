import { QueryRunnerAlreadyReleasedError, QueryRunnerProviderAlreadyReleasedError } from 'typeorm';

/** SQLSTATE codes the service reacts to (PostgreSQL manual, appendix A). */
export const PgCode = {
  UNIQUE_VIOLATION: '23505',
  FOREIGN_KEY_VIOLATION: '23503',
  CHECK_VIOLATION: '23514',
  SERIALIZATION_FAILURE: '40001',
  DEADLOCK_DETECTED: '40P01',
  LOCK_NOT_AVAILABLE: '55P03',
  QUERY_CANCELED: '57014',
  ADMIN_SHUTDOWN: '57P01',
  CANNOT_CONNECT_NOW: '57P03',
  TOO_MANY_CONNECTIONS: '53300',
} as const;

export function pgCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function pgConstraint(error: unknown): string | undefined {
  const constraint = (error as { constraint?: unknown } | null)?.constraint;
  return typeof constraint === 'string' ? constraint : undefined;
}

export const isUniqueViolation = (error: unknown, constraint?: string) =>
  pgCode(error) === PgCode.UNIQUE_VIOLATION && (constraint === undefined || pgConstraint(error) === constraint);

/** A transaction that failed this way did nothing and may simply be run again. */
export const isRetryableTransactionError = (error: unknown) => [PgCode.SERIALIZATION_FAILURE, PgCode.DEADLOCK_DETECTED].includes(pgCode(error) as never);

const UNAVAILABLE_SQLSTATES: string[] = [
  PgCode.LOCK_NOT_AVAILABLE,
  PgCode.QUERY_CANCELED,
  PgCode.ADMIN_SHUTDOWN,
  PgCode.CANNOT_CONNECT_NOW,
  PgCode.TOO_MANY_CONNECTIONS,
];
const UNAVAILABLE_NETWORK_CODES = ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND'];

/**
 * Overload or outage rather than a bug: a lock or statement timeout, the pool's acquire timeout,
 * a database that is down or restarting. These become 503 UNAVAILABLE.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  // TypeORM releases a query runner whose connection failed, even between two statements of a
  // transaction; the next statement then fails as "already released": the connection was lost.
  if (error instanceof QueryRunnerAlreadyReleasedError || error instanceof QueryRunnerProviderAlreadyReleasedError) return true;
  const code = pgCode(error);
  if (code && (UNAVAILABLE_SQLSTATES.includes(code) || UNAVAILABLE_NETWORK_CODES.includes(code))) return true;
  const message = error instanceof Error ? error.message : '';
  return /timeout exceeded when trying to connect|Connection terminated|connection timeout|Client has encountered a connection error/i.test(message);
}

/**
 * True when a failed statement surely changed nothing: PostgreSQL reported an error (the
 * statement, and an implicit transaction, rolled back), or it was never sent (no connection from
 * the pool). A dropped connection mid-statement is *not* such a case: the commit may have landed.
 */
export function surelyNotCommitted(error: unknown): boolean {
  const code = pgCode(error);
  if (code && /^[0-9A-Z]{5}$/.test(code)) return true;
  const message = error instanceof Error ? error.message : '';
  return /timeout exceeded when trying to connect/i.test(message);
}
