/**
 * The embedded PostgreSQL could not be set up or started. Its message is one plain line that says
 * why and what to do; start-up prints it instead of a stack.
 */
export class EmbeddedPostgresError extends Error {
  constructor(reason: string) {
    super(`embedded PostgreSQL: ${reason.replace(/\s*\n\s*/g, ' | ')} (or set DATABASE_URL to a PostgreSQL of your own)`);
    this.name = 'EmbeddedPostgresError';
  }
}
