import { ConsoleLogger, LogLevel as NestLogLevel } from '@nestjs/common';
import type { LogLevel } from '../config/app-config';

const LEVELS: Record<LogLevel, NestLogLevel[]> = {
  debug: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
  info: ['fatal', 'error', 'warn', 'log'],
  warn: ['fatal', 'error', 'warn'],
  error: ['fatal', 'error'],
};

/** One JSON object per line (timestamp, level, context, message), at LOG_LEVEL and above. */
export const createLogger = (level: LogLevel) => new ConsoleLogger({ json: true, logLevels: LEVELS[level] });
