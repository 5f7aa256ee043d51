import { EntityManager, QueryFailedError, QueryRunnerAlreadyReleasedError } from 'typeorm';

/** The part of node-postgres' client used here: a query named, so prepared once per connection. */
interface PgClient {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

/**
 * A statement PostgreSQL parses and plans once per pooled connection (a named prepared statement
 * of node-postgres), then only binds and runs. TypeORM's query() sends the text every time, and
 * PostgreSQL parses and plans it anew; for the statements run once per batch, many times a
 * second, that was much of their cost (pg_stat_statements; see bench/README.md). Its text is
 * fixed: on every connection the name stands for that text alone.
 */
export class PreparedStatement {
  constructor(
    readonly name: string,
    readonly text: string,
  ) {}

  /**
   * Runs on the manager's connection (inside its transaction, if it has one), and fails as
   * TypeORM's query() does (QueryFailedError, with PostgreSQL's code and constraint), logged
   * through the same logger (SqlLogger: failures, and slow statements).
   */
  async run<Row>(manager: EntityManager, values: unknown[]): Promise<Row[]> {
    const runner = manager.queryRunner ?? manager.connection.createQueryRunner();
    if (runner.isReleased) throw new QueryRunnerAlreadyReleasedError();
    const { logger, options } = manager.connection;
    try {
      const client = (await runner.connect()) as PgClient;
      logger.logQuery(this.text, values, runner);
      const started = Date.now();
      try {
        const { rows } = await client.query({ name: this.name, text: this.text, values });
        const took = Date.now() - started;
        if (options.maxQueryExecutionTime && took > options.maxQueryExecutionTime) logger.logQuerySlow(took, this.text, values, runner);
        return rows as Row[];
      } catch (error) {
        logger.logQueryError(error as Error, this.text, values, runner);
        throw new QueryFailedError(this.text, values, error as Error);
      }
    } finally {
      if (!manager.queryRunner) await runner.release();
    }
  }
}
