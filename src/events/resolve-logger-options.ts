import { fail } from '../core/validate.js';
import type { LogLevel, ResilienceLogger } from './logging.js';

/** `logger` and `logLevel` after validation. */
export interface ResolvedLogger {
  readonly logger: ResilienceLogger;
  readonly level: LogLevel;
}

const LEVELS = ['debug', 'info', 'warn', 'error', 'off'];

/** `logger` and `logLevel`. */
export function resolveLogger(logger: unknown, level: unknown): ResolvedLogger | undefined {
  if (level !== undefined && !LEVELS.includes(level as string)) fail('logLevel', `one of ${LEVELS.map((l) => `'${l}'`).join(', ')}`, level);
  if (logger === undefined) return undefined;
  const methods = ['debug', 'info', 'warn', 'error'].filter((name) => typeof (logger as Record<string, unknown>)?.[name] === 'function');
  if (methods.length === 0) fail('logger', 'an object with `debug`, `info`, `warn` or `error` methods (console, pino...)', logger);
  return { logger: logger as ResilienceLogger, level: (level as LogLevel | undefined) ?? 'warn' };
}
