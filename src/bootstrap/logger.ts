import { Logger as NestPinoLogger, Params, PinoLogger } from 'nestjs-pino';
import pino, { Logger } from 'pino';
import type { LogLevel } from '../config/app-config';

/**
 * Fields that could carry a secret, wherever they appear in a logged object. Requests are logged
 * as method, URL and status only (see request-logging.ts), so this is the second line of defence.
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
 * Nest's LoggerService, from nestjs-pino, over `root`: `new Logger(context)` anywhere in the code
 * writes through it, and inside a request it writes through that request's child logger (bound by
 * request-logging.ts), so the line carries the request id.
 */
export function nestLogger(root: Logger): NestPinoLogger {
  const params: Params = { pinoHttp: { logger: root } };
  return new NestPinoLogger(new PinoLogger(params), params);
}
