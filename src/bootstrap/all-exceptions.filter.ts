import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_STATUS, ErrorCode } from '../common/errors/error-code';
import { toDomainError } from './to-domain-error';

interface ErrorBody {
  statusCode: number;
  code: ErrorCode;
  message: string;
  requestId: string;
}

/**
 * The one place where errors become HTTP answers: DomainErrors by their code, framework errors
 * (validation, unknown route, body parsing) by their status, and anything unexpected as a
 * logged 500 that carries the request id, so a user's report can be matched to the log line.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Exceptions');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const request = ctx.getRequest<FastifyRequest>();
    const reply = ctx.getResponse<FastifyReply>();
    const error = toDomainError(exception);
    // named here: the logger binds it to every line of a request only at debug (request-logging.ts)
    const context = { requestId: request.id, method: request.method, url: request.url };
    if (error.code === ErrorCode.INTERNAL) {
      this.logger.error({ msg: 'request failed', ...context, err: describe(exception) });
    } else if (error.code === ErrorCode.UNAVAILABLE) {
      // overload or an outage: worth a line for operators, not a stack trace per request
      this.logger.warn({ msg: 'answered 503', ...context, cause: exception instanceof Error ? exception.message : String(exception) });
    }
    const body: ErrorBody = { statusCode: ERROR_STATUS[error.code], code: error.code, message: error.message, requestId: request.id };
    if (error.headers) void reply.headers(error.headers);
    void reply.status(body.statusCode).send(body);
  }
}

function describe(exception: unknown): string {
  if (exception instanceof Error) return exception.stack ?? exception.message;
  if (exception instanceof HttpException) return JSON.stringify(exception.getResponse());
  return String(exception);
}
