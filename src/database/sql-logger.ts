import { Logger as NestLogger } from '@nestjs/common';
import type { Logger as TypeOrmLogger } from 'typeorm';

/**
 * TypeORM's loggers print query parameters, which carry password hashes and emails. This one
 * prints statement text only: every statement when DB_LOGGING=true (how the original design
 * found its race), failures only otherwise, and never a parameter.
 */
export class SqlLogger implements TypeOrmLogger {
  private readonly logger = new NestLogger('SQL');

  constructor(private readonly everyStatement: boolean) {}

  logQuery(query: string): void {
    if (this.everyStatement) this.logger.log(oneLine(query));
  }

  logQueryError(error: string | Error, query: string): void {
    if (this.everyStatement) this.logger.warn(`${oneLine(query)} -- failed: ${error instanceof Error ? error.message : error}`);
  }

  logQuerySlow(time: number, query: string): void {
    this.logger.warn(`slow (${time} ms): ${oneLine(query)}`);
  }

  logSchemaBuild(message: string): void {
    this.logger.debug(message);
  }

  logMigration(message: string): void {
    this.logger.log(message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.logger.warn(String(message));
    else this.logger.debug(String(message));
  }
}

const oneLine = (sql: string) => sql.replace(/\s+/g, ' ').trim();
