import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Public } from '../common/decorators/auth.decorators';
import { unavailable } from '../common/errors/domain.error';
import { IssuanceStrategy } from '../issuance/strategies/issuance.strategy';

const PROBE_TIMEOUT_MS = 2000;

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly strategy: IssuanceStrategy,
  ) {}

  /** 200 when PostgreSQL (and whatever the strategy needs, such as Redis) answers; 503 otherwise. */
  @Get()
  @ApiOkResponse({ description: '{status: "ok", strategy}' })
  @ApiServiceUnavailableResponse({ description: 'UNAVAILABLE, naming what is down' })
  async check(): Promise<{ status: 'ok'; strategy: string }> {
    try {
      await withTimeout(this.db.query('SELECT 1'), 'PostgreSQL');
    } catch (error) {
      throw unavailable(`database: ${(error as Error).message}`);
    }
    try {
      await withTimeout(this.strategy.checkHealth(), `${this.strategy.name} dependencies`);
    } catch (error) {
      throw unavailable(`${this.strategy.name} strategy: ${(error as Error).message}`);
    }
    return { status: 'ok', strategy: this.strategy.name };
  }
}
