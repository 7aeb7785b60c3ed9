import { failedHow, type EventBus, type ListenerFailureLog } from './event-bus.js';
import type { ResilienceEventName, ResilienceEvents } from './event-map.js';
import { describeError } from './redact.js';

/** Anything with the usual log methods: `console`, pino, winston, or your own. */
export interface ResilienceLogger {
  debug?(...args: unknown[]): unknown;
  info?(...args: unknown[]): unknown;
  warn?(...args: unknown[]): unknown;
  error?(...args: unknown[]): unknown;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'off';
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, off: 99 };

type Line = { level: Exclude<LogLevel, 'off'>; message: string; details: Record<string, unknown> };
type Format<E extends ResilienceEventName> = (event: ResilienceEvents[E]) => Line;

const where = (e: { model?: string | undefined; method?: string; path?: string }) => `${e.model ?? e.path ?? ''}`.trim();
const request = (e: { callId?: number; model?: string | undefined; method?: string; path?: string; tenant?: string | undefined; trafficClass?: string }) => ({
  callId: e.callId, model: e.model, endpoint: `${e.method} ${e.path}`, ...(e.tenant !== undefined ? { tenant: e.tenant } : {}),
  // A call's traffic class shows when it is not the default one (resilience.forClass(), the class header).
  ...(e.trafficClass !== undefined && e.trafficClass !== 'default' ? { trafficClass: e.trafficClass } : {}),
});

/** `gpt-4.1-mini`, `client 0 (their-gpt-4.1)`, `client 0`, `the last-resort value`. */
function fallbackTarget(e: ResilienceEvents['fallback']): string {
  if (e.target === 'value') return 'the last-resort value';
  if (e.target === 'model') return e.to;
  const client = `client ${e.client}`;
  return e.to === client ? client : `${client} (${e.to})`;
}

/** One line per decision; no request body, prompt or API key ever appears (error messages are redacted). */
const FORMATS: { [E in ResilienceEventName]?: Format<E> } = {
  retry: (e) => ({
    level: 'info',
    message: `${where(e)}: ${e.kind}${e.status ? ` (${e.status})` : ''} on attempt ${e.attempt}${e.member === undefined ? '' : ` (member ${e.member})`}, retrying in ${e.delay} ms (${e.delaySource})`,
    details: { ...request(e), attempt: e.attempt, delay: e.delay, kind: e.kind, ...(e.member === undefined ? {} : { member: e.member }), error: describeError(e.error) },
  }),
  giveUp: (e) => ({
    level: 'warn',
    message: `${where(e)}: gave up after ${e.attempt} attempt(s): ${e.kind} (${e.reason})`,
    details: { ...request(e), attempt: e.attempt, kind: e.kind, reason: e.reason, error: describeError(e.error) },
  }),
  fallback: (e) => ({
    level: 'warn',
    message: `${where(e)}: falling back to ${fallbackTarget(e)} after ${e.reason}`,
    details: { ...request(e), step: e.step, target: e.target, from: e.from, to: e.to, reason: e.reason },
  }),
  circuitOpen: (e) => ({
    level: 'warn',
    message: `circuit "${e.key}" opened (${e.reason}); calls fail fast for ${e.retryAfter} ms`,
    details: { key: e.key, reason: e.reason, retryAfter: e.retryAfter, error: describeError(e.error) },
  }),
  circuitHalfOpen: (e) => ({ level: 'info', message: `circuit "${e.key}" half-open: probing`, details: { key: e.key } }),
  circuitClose: (e) => ({ level: 'info', message: `circuit "${e.key}" closed`, details: { key: e.key } }),
  bulkheadReject: (e) => ({
    level: 'warn',
    message: `bulkhead rejected a${e.trafficClass === 'interactive' ? 'n' : ''} ${e.trafficClass} call (${e.reason}): ${e.active} running, ${e.queued} queued`,
    details: { ...e },
  }),
  rateLimitReject: (e) => ({
    level: 'warn',
    message: `rate limiter turned away a${e.trafficClass === 'interactive' ? 'n' : ''} ${e.trafficClass} call for ${e.model} (${e.reason})`,
    details: { ...e },
  }),
  budgetExhausted: (e) => ({
    level: 'warn',
    message: `${where(e)}: retry budget spent; ${e.kind} not retried`,
    details: { ...request(e), kind: e.kind },
  }),
  budgetThreshold: (e) => ({
    level: e.threshold >= 1 ? 'warn' : 'info',
    message: `budget "${e.limitName}"${e.tenant === undefined ? '' : ` of tenant "${e.tenant}"`} at ${Math.round(e.threshold * 100)}%: ${e.used} of ${e.limit}${e.metric === 'tokens' ? ' tokens' : ''} used`,
    details: { ...request(e), limitName: e.limitName, per: e.per, metric: e.metric, threshold: e.threshold, used: e.used, limit: e.limit, resetsAt: e.resetsAt.toISOString() },
  }),
  budgetExceeded: (e) => ({
    level: 'warn',
    message: `${where(e)}: budget "${e.limitName}"${e.tenant === undefined ? '' : ` of tenant "${e.tenant}"`} refused a call needing ${e.requested}${e.metric === 'tokens' ? ' tokens' : ''} (${e.used} of ${e.limit} used; resets by ${e.resetsAt.toISOString()})`,
    details: { ...request(e), limitName: e.limitName, per: e.per, metric: e.metric, used: e.used, limit: e.limit, requested: e.requested, resetsAt: e.resetsAt.toISOString() },
  }),
  timeout: (e) => ({ level: 'info', message: `${where(e)}: ${e.timeout} timeout after ${e.limit} ms`, details: { ...request(e), timeout: e.timeout, limit: e.limit } }),
  streamStall: (e) => ({ level: 'warn', message: `${where(e)}: stream stalled after ${e.chunks} chunk(s)`, details: { ...request(e), chunks: e.chunks, idle: e.idle } }),
  streamTruncated: (e) => ({ level: 'warn', message: `${where(e)}: stream ended without its terminal event after ${e.chunks} chunk(s)`, details: { ...request(e), chunks: e.chunks } }),
  streamResume: (e) => ({
    level: 'info',
    message: `${where(e)}: stream of ${e.responseId} resumed after event ${e.after} (${e.failure}; resume ${e.resume})`,
    details: { ...request(e), responseId: e.responseId, after: e.after, resume: e.resume, failure: e.failure },
  }),
  streamContinued: (e) => ({
    level: 'info',
    message: `${where(e)}: stream continued after ${e.chunks} chunk(s) (${e.failure}; ${e.strategy}; continuation ${e.continuation})`,
    details: { ...request(e), chunks: e.chunks, deliveredTokens: e.deliveredTokens, strategy: e.strategy, failure: e.failure, continuation: e.continuation },
  }),
  streamNotContinued: (e) => ({
    level: 'info',
    message: `${where(e)}: stream not continued after ${e.chunks} chunk(s) (${e.reason})`,
    details: { ...request(e), chunks: e.chunks, reason: e.reason, ...(e.error === undefined ? {} : { error: describeError(e.error) }) },
  }),
  streamAbandoned: (e) => ({
    level: 'warn',
    message: `${where(e)}: stream abandoned after ${e.chunks} chunk(s) (${e.reason === 'unread' ? 'not read' : 'garbage-collected'} before its end); its connection was closed`,
    details: { ...request(e), chunks: e.chunks, reason: e.reason },
  }),
  rateLimitWait: (e) => ({ level: 'debug', message: `${e.model}: waiting ${e.delay} ms for rate-limit capacity (${e.reason})`, details: { ...e } }),
  sharedStateDown: (e) => ({
    level: 'warn',
    message: `shared state (${e.backend}) unavailable during ${e.operation}: deciding on local state until it answers again`,
    details: { backend: e.backend, operation: e.operation, error: describeError(e.error) },
  }),
  sharedStateUp: (e) => ({ level: 'info', message: `shared state (${e.backend}) available again after ${e.downFor} ms`, details: { ...e } }),
  cacheStoreError: (e) => ({
    level: 'warn',
    message: `cache store failed to ${e.operation} an entry; the call went on without it`,
    details: { operation: e.operation, error: describeError(e.error) },
  }),
  cacheHit: (e) => ({ level: 'debug', message: `${where(e)}: cache hit${e.stale ? ' (stale)' : e.shared ? ' (shared)' : ''}`, details: { ...request(e), age: e.age } }),
  cacheMiss: (e) => ({ level: 'debug', message: `${where(e)}: cache miss`, details: request(e) }),
  callEnd: (e) => ({
    level: 'debug',
    message: `${where(e)}: ${e.outcome} in ${e.duration} ms${e.kind ? ` (${e.kind})` : ''}`,
    details: { ...request(e), outcome: e.outcome, duration: e.duration, kind: e.kind, usage: e.usage },
  }),
};

/** pino and its kin take `(details, message)`; console and most others take `(message, details)`. */
function isPinoLike(logger: ResilienceLogger): boolean {
  const candidate = logger as { child?: unknown; levels?: unknown };
  return typeof candidate.child === 'function' && typeof candidate.levels === 'object';
}

/** Logs every decision the pipeline makes at or above `level`, through `logger`. */
export function attachLogger(events: EventBus, logger: ResilienceLogger, level: LogLevel): void {
  if (level === 'off') return;
  const pino = isPinoLike(logger);
  for (const [event, format] of Object.entries(FORMATS) as Array<[ResilienceEventName, Format<any>]>) {
    events.on(event, (payload) => {
      const line = format(payload);
      if (RANK[line.level] >= RANK[level]) write(logger, pino, line);
    });
  }
}

/**
 * Where the event bus logs a listener that threw or rejected: an `error` line through `logger` (`warn` for
 * a logger without `error`), whatever `level` is short of `'off'`: a failing listener is a bug in the
 * caller's code, never routine. `undefined` for `'off'` or a logger with neither method, so that such a
 * failure then goes where it goes without a logger.
 */
export function listenerFailureLog(logger: ResilienceLogger, level: LogLevel): ListenerFailureLog | undefined {
  const severity = typeof logger.error === 'function' ? 'error' : typeof logger.warn === 'function' ? 'warn' : undefined;
  if (level === 'off' || severity === undefined) return undefined;
  const pino = isPinoLike(logger);
  return (event, error, failure) => {
    write(logger, pino, {
      level: severity,
      message: `a \`${event}\` listener ${failedHow(failure)}; the call was not affected`,
      details: { event, error: describeError(error) },
    });
  };
}

/** Writes `line` through `logger`, if it has a method for the line's level. */
function write(logger: ResilienceLogger, pino: boolean, line: Line): void {
  const method = logger[line.level];
  if (typeof method !== 'function') return;
  const message = `openai-resilient: ${line.message}`;
  if (pino) method.call(logger, line.details, message);
  else method.call(logger, message, line.details);
}
