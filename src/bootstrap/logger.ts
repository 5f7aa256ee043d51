import type { IncomingMessage, ServerResponse } from 'node:http';
import { Logger as NestPinoLogger, Params, PinoLogger } from 'nestjs-pino';
import pino, { Logger } from 'pino';
import type { LogLevel } from '../config/app-config';

/**
 * Fields that could carry a secret, wherever they appear in a logged object. Requests are
 * serialised without headers or bodies (see below), so this is the second line of defence.
 */
const REDACTED = [
  'password',
  'accessToken',
  'token',
  'authorization',
  '*.password',
  '*.accessToken',
  '*.token',
  '*.authorization',
  '*.headers.authorization',
  '*.headers.cookie',
];

/** The process's one pino logger: JSON lines at LOG_LEVEL, ISO time, level by name. */
export function createRootLogger(level: LogLevel): Logger {
  return pino({
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACTED, censor: '[redacted]' },
  });
}

/**
 * nestjs-pino's settings: every line logged while a request is handled carries its `requestId`
 * (Fastify's id, which honours an incoming `X-Request-Id`, the same one error bodies show).
 * The per-request summary is a debug line, so the hot path writes nothing at `info`; failures
 * are logged once, by the exception filter, with their cause.
 */
export function loggerParams(root: Logger): Params {
  return {
    pinoHttp: {
      logger: root,
      // middie copies Fastify's request.id onto the raw request before any middleware runs
      genReqId: (req) => req.id ?? 'unknown',
      quietReqLogger: true,
      customAttributeKeys: { reqId: 'requestId' },
      customLogLevel: () => 'debug' as const,
      serializers: {
        req: (req: IncomingMessage) => ({ method: req.method, url: req.url }),
        res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
      },
    },
  };
}

/** A Nest LoggerService over `root`, for `NestFactory.create({ logger })` and standalone use. */
export function nestLogger(root: Logger): NestPinoLogger {
  const params = loggerParams(root);
  return new NestPinoLogger(new PinoLogger(params), params);
}
