import { wrap, type IBackoffFactory, type IPolicy } from 'cockatiel';
import { ERROR_KINDS, NEVER_RETRIED, type ErrorKind, type RecoveryAction } from '../errors/error-kind.js';
import type { ResilienceOptions, RetryBackoffContext } from '../options.js';
import { ExponentialJitterBackoff } from '../pipeline/backoff.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { SharedBackend } from '../shared/shared-backend.js';
import { resolveHedge } from './resolve-hedge.js';
import type { HedgeSettings } from '../policies/hedge/hedger.js';
import type { BulkheadSettings } from '../policies/bulkhead/bulkhead.js';
import type { RateLimitSettings } from '../policies/rate-limit/rate-limiter.js';
import type { RetryBudgetSettings } from '../policies/retry/retry-budget.js';
import type { CacheSettings } from '../cache/response-cache.js';
import type { StreamGuardSettings } from '../streams/stream-guard.js';
import type { LogLevel, ResilienceLogger } from '../events/logging.js';
import { resolveCache } from './resolve-cache.js';
import { resolveFallback, type ResolvedFallback } from './resolve-fallback.js';
import { resolveBreaker, resolveBudget, resolveBulkhead, resolveRateLimit, type ResolvedBreaker } from './resolve-protection.js';
import { formatLimit, LIMITS } from '../core/option-limits.js';
import { booleanOption, durationOrFalse, fail, isPlainObject, numberOption, objectWithKeys } from '../core/validate.js';

/** Options after defaults and validation: what the pipeline reads on every call. */
export interface ResolvedOptions {
  readonly retry: {
    readonly maxRetries: number;
    readonly maxRetryAfter: number;
    readonly backoff: IBackoffFactory<RetryBackoffContext>;
    readonly budget: RetryBudgetSettings | undefined;
  };
  readonly circuitBreaker: ResolvedBreaker | undefined;
  readonly bulkhead: BulkheadSettings | undefined;
  readonly rateLimit: RateLimitSettings | undefined;
  readonly fallback: ResolvedFallback | undefined;
  readonly cache: CacheSettings | undefined;
  readonly shared: SharedBackend | undefined;
  readonly hedge: HedgeSettings | undefined;
  readonly refreshCredentials: ((error: unknown) => unknown) | undefined;
  readonly contextWindows: Readonly<Record<string, number>>;
  readonly logger: { readonly logger: ResilienceLogger; readonly level: LogLevel } | undefined;
  readonly timeout: {
    readonly attempt: number | undefined;
    readonly total: number | undefined;
    readonly firstChunk: number | undefined;
    /** `timeout.firstChunk` was not given: it follows `attempt`, also as `withOptions({ timeout })` sets it. */
    readonly firstChunkIsAttempt: boolean;
  };
  readonly streaming: StreamGuardSettings;
  readonly actions: Partial<Record<ErrorKind, RecoveryAction>>;
  readonly policies: { readonly call: IPolicy<any, any> | undefined; readonly attempt: IPolicy<any, any> | undefined };
  readonly clock: Clock;
}

export const DEFAULTS = Object.freeze({
  maxRetries: 2,
  initialDelay: 500,
  maxDelay: 30_000,
  maxRetryAfter: 60_000,
  attemptTimeout: 600_000,
  totalTimeout: 900_000,
  idleTimeout: 120_000,
});

/** What the wrapped client was configured with, used as defaults (so existing settings carry over). */
export interface ClientDefaults {
  readonly maxRetries?: unknown;
  readonly timeout?: unknown;
}

const TOP_LEVEL = ['retry', 'timeout', 'streaming', 'actions', 'circuitBreaker', 'bulkhead', 'rateLimit', 'fallback', 'cache', 'shared', 'hedge', 'refreshCredentials', 'contextWindows', 'logger', 'logLevel', 'policies', 'clock'] as const;

/** Validates `options` (throwing a `TypeError` that names the option) and fills in defaults. */
export function resolveOptions(options: unknown, client: ClientDefaults = {}): ResolvedOptions {
  const top = objectWithKeys('', options ?? {}, TOP_LEVEL) as ResilienceOptions;
  const retry = resolveRetry(top.retry, client);
  return {
    retry,
    timeout: resolveTimeout(top.timeout, client),
    streaming: resolveStreaming(top.timeout, top.streaming),
    circuitBreaker: resolveBreaker(top.circuitBreaker),
    bulkhead: resolveBulkhead(top.bulkhead),
    rateLimit: resolveRateLimit(top.rateLimit, retry.maxRetryAfter),
    fallback: resolveFallback(top.fallback),
    cache: resolveCache(top.cache),
    shared: resolveShared(top.shared),
    hedge: resolveHedge(top.hedge),
    refreshCredentials: resolveFunction('refreshCredentials', top.refreshCredentials),
    contextWindows: resolveWindows(top.contextWindows),
    logger: resolveLogger(top.logger, top.logLevel),
    actions: resolveActions(top.actions),
    policies: resolvePolicies(top.policies),
    clock: resolveClock(top.clock),
  };
}

function resolveRetry(value: unknown, client: ClientDefaults): ResolvedOptions['retry'] {
  if (value === false) {
    return { maxRetries: 0, maxRetryAfter: DEFAULTS.maxRetryAfter, backoff: new ExponentialJitterBackoff(), budget: undefined };
  }
  const retry = objectWithKeys('retry', value, [
    'maxRetries', 'initialDelay', 'maxDelay', 'maxRetryAfter', 'jitter', 'backoff', 'budget',
  ]) ?? {};
  const initialDelay = numberOption('retry.initialDelay', retry['initialDelay'], { max: LIMITS.duration }) ?? DEFAULTS.initialDelay;
  const maxDelay = numberOption('retry.maxDelay', retry['maxDelay'], { max: LIMITS.duration }) ?? Math.max(DEFAULTS.maxDelay, initialDelay);
  if (maxDelay < initialDelay) fail('retry.maxDelay', `≥ \`retry.initialDelay\` (${initialDelay})`, maxDelay);
  const jitter = booleanOption('retry.jitter', retry['jitter']) ?? true;
  const backoff = retry['backoff'];
  if (backoff !== undefined && typeof (backoff as IBackoffFactory<unknown>)?.next !== 'function') {
    fail('retry.backoff', 'a cockatiel backoff (an object with `next(context)`)', backoff);
  }
  return {
    maxRetries:
      numberOption('retry.maxRetries', retry['maxRetries'], { max: LIMITS.retries, integer: true }) ??
      clientNumber('maxRetries', client.maxRetries, LIMITS.retries, true) ??
      DEFAULTS.maxRetries,
    maxRetryAfter: numberOption('retry.maxRetryAfter', retry['maxRetryAfter'], { max: LIMITS.duration }) ?? DEFAULTS.maxRetryAfter,
    backoff:
      (backoff as IBackoffFactory<RetryBackoffContext> | undefined) ??
      new ExponentialJitterBackoff({ initialDelay, maxDelay, jitter }),
    budget: resolveBudget(retry['budget']),
  };
}

function resolveTimeout(value: unknown, client: ClientDefaults): ResolvedOptions['timeout'] {
  if (value === false) return { attempt: undefined, total: undefined, firstChunk: undefined, firstChunkIsAttempt: false };
  const timeout = objectWithKeys('timeout', value, ['attempt', 'total', 'firstChunk', 'idle']) ?? {};
  const attemptOption = durationOrFalse('timeout.attempt', timeout['attempt']);
  const total = durationOrFalse('timeout.total', timeout['total']);
  const firstChunk = durationOrFalse('timeout.firstChunk', timeout['firstChunk']);
  const attempt = attemptOption === false ? undefined : (attemptOption ?? clientNumber('timeout', client.timeout, LIMITS.duration, false) ?? DEFAULTS.attemptTimeout);
  return {
    attempt,
    total: total === false ? undefined : (total ?? DEFAULTS.totalTimeout),
    firstChunk: firstChunk === false ? undefined : (firstChunk ?? attempt),
    firstChunkIsAttempt: firstChunk === undefined,
  };
}

function resolveStreaming(timeout: unknown, value: unknown): StreamGuardSettings {
  const idle = timeout === false ? false : durationOrFalse('timeout.idle', (timeout as Record<string, unknown> | undefined)?.['idle']);
  const streaming = objectWithKeys('streaming', value, ['onTruncated']) ?? {};
  const onTruncated = streaming['onTruncated'];
  if (onTruncated !== undefined && onTruncated !== 'error' && onTruncated !== 'end') {
    fail('streaming.onTruncated', "'error' or 'end'", onTruncated);
  }
  return {
    idle: idle === false ? undefined : (idle ?? DEFAULTS.idleTimeout),
    onTruncated: (onTruncated as StreamGuardSettings['onTruncated'] | undefined) ?? 'error',
  };
}

function resolveActions(value: unknown): ResolvedOptions['actions'] {
  const actions = objectWithKeys('actions', value, ERROR_KINDS) ?? {};
  for (const [kind, action] of Object.entries(actions)) {
    if (action !== 'retry' && action !== 'fail') fail(`actions.${kind}`, "'retry' or 'fail'", action);
    if (action === 'retry' && NEVER_RETRIED.has(kind as ErrorKind)) {
      fail(`actions.${kind}`, "'fail' (this kind is never retried)", action);
    }
  }
  return actions as ResolvedOptions['actions'];
}

function resolvePolicies(value: unknown): ResolvedOptions['policies'] {
  const policies = objectWithKeys('policies', value, ['call', 'attempt']) ?? {};
  return { call: composed('policies.call', policies['call']), attempt: composed('policies.attempt', policies['attempt']) };
}

function composed(path: string, value: unknown): IPolicy<any, any> | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) fail(path, 'an array of cockatiel policies', value);
  value.forEach((policy, index) => {
    if (typeof (policy as IPolicy)?.execute !== 'function') fail(`${path}[${index}]`, 'a cockatiel policy', policy);
  });
  if (value.length === 0) return undefined;
  return value.length === 1 ? (value[0] as IPolicy<any, any>) : wrap(...(value as IPolicy<any, any>[]));
}

function resolveFunction<F>(path: string, value: unknown): F | undefined {
  if (value !== undefined && typeof value !== 'function') fail(path, 'a function', value);
  return value as F | undefined;
}

function resolveWindows(value: unknown): Readonly<Record<string, number>> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) fail('contextWindows', 'an object of model → tokens', value);
  const windows = value as Record<string, unknown>;
  for (const [model, tokens] of Object.entries(windows)) numberOption(`contextWindows.${model}`, tokens, { min: 1, max: LIMITS.tokens, integer: true });
  return windows as Record<string, number>;
}

const LEVELS = ['debug', 'info', 'warn', 'error', 'off'];

function resolveLogger(logger: unknown, level: unknown): ResolvedOptions['logger'] {
  if (level !== undefined && !LEVELS.includes(level as string)) fail('logLevel', `one of ${LEVELS.map((l) => `'${l}'`).join(', ')}`, level);
  if (logger === undefined) return undefined;
  const methods = ['debug', 'info', 'warn', 'error'].filter((name) => typeof (logger as Record<string, unknown>)?.[name] === 'function');
  if (methods.length === 0) fail('logger', 'an object with `debug`, `info`, `warn` or `error` methods (console, pino...)', logger);
  return { logger: logger as ResilienceLogger, level: (level as LogLevel | undefined) ?? 'warn' };
}

const SHARED_METHODS = ['circuitAdmit', 'circuitOpen', 'circuitClose', 'circuitRelease', 'rateReserve', 'rateAdjust', 'rateLearn', 'ratePause'] as const;

function resolveShared(value: unknown): SharedBackend | undefined {
  if (value === undefined) return undefined;
  const backend = value as Partial<Record<string, unknown>>;
  const complete =
    typeof value === 'object' && value !== null && typeof backend['name'] === 'string' &&
    SHARED_METHODS.every((name) => typeof backend[name] === 'function') &&
    [backend['timeout'], backend['retryInterval']].every((ms) => typeof ms === 'number' && ms > 0);
  if (!complete) fail('shared', 'a shared-state backend, such as `createRedisState(client)` from `openai-resilient/redis`', value);
  return value as SharedBackend;
}

function resolveClock(value: unknown): Clock {
  if (value === undefined) return systemClock;
  const clock = value as Partial<Clock>;
  if (typeof clock.now !== 'function' || typeof clock.setTimeout !== 'function' || typeof clock.clearTimeout !== 'function') {
    fail('clock', 'an object with `now`, `setTimeout` and `clearTimeout`', value);
  }
  return value as Clock;
}

/**
 * A setting of the wrapped client (`new OpenAI({ maxRetries, timeout })`) carried over: one the SDK would
 * ignore is ignored too; one above what `resilient()` allows (`max`) throws, naming it.
 */
function clientNumber(name: string, value: unknown, max: number, integer: boolean): number | undefined {
  const valid = typeof value === 'number' && Number.isFinite(value) && value >= 0 && (!integer || Number.isInteger(value));
  if (!valid) return undefined;
  if (value > max) {
    throw new TypeError(
      `openai-resilient: the client's \`${name}\` (${value}) is above ${formatLimit(max)}, the most \`resilient()\` allows; set a lower one, or override it in the options.`,
    );
  }
  return value;
}
