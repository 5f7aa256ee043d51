import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheckResult, HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { ApiErrors } from '../common/decorators/api-errors.decorator';
import { Public } from '../common/decorators/auth.decorators';
import { ErrorCode } from '../common/errors/error-code';
import { unavailable } from '../common/errors/domain.error';
import { settledWithin } from '../common/settled-within';
import { DependencyProbe, IssuanceStrategy } from '../issuance/strategies/issuance.strategy';

const PROBE_TIMEOUT_MS = 2000;
/** Readiness is answered from a result at most this old. */
const READY_RESULT_MAX_AGE_MS = 1000;

type ReadyResult = HealthCheckResult & { strategy: string };

const READY_EXAMPLE = {
  status: 'ok',
  strategy: 'queue',
  info: { database: { status: 'up' }, redis: { status: 'up' }, queue: { status: 'up', depth: 0, workers: 2 } },
};

/**
 * Liveness and readiness, for an orchestrator: `/health/live` only says the process answers
 * (restart it when it does not); `/health/ready` and `/health` say whether it can serve issues
 * now, i.e. PostgreSQL and what the strategy needs (Redis, the queue) answer in time.
 */
@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly strategy: IssuanceStrategy,
  ) {}

  /** The last readiness check (its promise: callers during a check share it too). */
  private last?: { at: number; result: Promise<ReadyResult> };

  @Get()
  @ApiOperation({ summary: 'Health of PostgreSQL and Redis' })
  @ApiOkResponse({ description: 'Ready (the same as /health/ready)', schema: { example: READY_EXAMPLE } })
  @ApiErrors(ErrorCode.UNAVAILABLE)
  check(): Promise<ReadyResult> {
    return this.ready();
  }

  @Get('ready')
  @ApiOperation({ summary: 'Ready to serve (load balancers)' })
  @ApiOkResponse({ description: 'PostgreSQL and the strategy’s dependencies answer', schema: { example: READY_EXAMPLE } })
  @ApiErrors(ErrorCode.UNAVAILABLE)
  ready(): Promise<ReadyResult> {
    // anyone may ask, as often as they like: the probes run once a second at most, shared by all
    const now = Date.now();
    if (!this.last || now - this.last.at >= READY_RESULT_MAX_AGE_MS) this.last = { at: now, result: this.probeAll() };
    return this.last.result;
  }

  private async probeAll(): Promise<ReadyResult> {
    try {
      const result = await this.health.check([
        () => this.database.pingCheck('database', { timeout: PROBE_TIMEOUT_MS }),
        ...this.strategy.dependencies().map((probe) => () => this.probe(probe)),
      ]);
      return { ...result, strategy: this.strategy.name };
    } catch (error) {
      throw unavailable(`not ready: ${describeDown(error)}`);
    }
  }

  @Get('live')
  @ApiOperation({ summary: 'Alive (the process answers)' })
  @ApiOkResponse({ description: 'The process answers', schema: { example: { status: 'ok' } } })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  private async probe(probe: DependencyProbe) {
    const session = this.indicators.check(probe.name);
    try {
      return session.up(await withTimeout(probe.check(), probe.name));
    } catch (error) {
      return session.down({ message: (error as Error).message });
    }
  }
}

async function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  if ((await settledWithin(promise, PROBE_TIMEOUT_MS)) === 'late') throw new Error(`${what} did not answer within ${PROBE_TIMEOUT_MS} ms`);
  return promise;
}

/** Addresses of internal hosts (`10.0.0.5:6379`, `[::1]:5432`, `db.internal:5432`): not for a public body. */
const HOST_AND_PORT = /\[[\da-f:.]+\](:\d+)?|\b(\d{1,3}\.){3}\d{1,3}(:\d+)?|\b[a-z\d-]+(\.[a-z\d-]+)*:\d{2,5}\b/gi;
const withoutHosts = (message: string) => message.replace(HOST_AND_PORT, '<host>');

/** "database (timeout), redis (connect ECONNREFUSED <host>)" from terminus's 503 body. */
function describeDown(error: unknown): string {
  const body = (error as { getResponse?: () => unknown }).getResponse?.() as HealthCheckResult | undefined;
  const down = Object.entries(body?.error ?? {}).map(([name, detail]) => `${name} (${withoutHosts(String(detail?.message ?? 'down'))})`);
  return down.length ? down.join(', ') : withoutHosts((error as Error).message);
}
