import { wrap, type IPolicy } from 'cockatiel';
import { clientNumber, type ClientDefaults } from '../core/client-defaults.js';
import { systemClock, type Clock } from '../core/clock.js';
import { LIMITS } from '../core/option-limits.js';
import { durationOrFalse, fail, isPlainObject, numberOption, objectWithKeys } from '../core/validate.js';

export const TIMEOUT_DEFAULTS = Object.freeze({ attempt: 600_000, total: 900_000 });

/** `timeout` after defaults and validation (its `idle` is in the streaming settings). */
export interface ResolvedTimeout {
  readonly attempt: number | undefined;
  readonly total: number | undefined;
  readonly firstChunk: number | undefined;
  /** `timeout.firstChunk` was not given: it follows `attempt`, also as `withOptions({ timeout })` sets it. */
  readonly firstChunkIsAttempt: boolean;
}

/** `policies`, each list composed into one cockatiel policy. */
export interface ResolvedPolicies {
  readonly call: IPolicy<any, any> | undefined;
  readonly attempt: IPolicy<any, any> | undefined;
}

/** `timeout` (but `idle`, which is the streams'), with the wrapped client's own `timeout` as the attempt's default. */
export function resolveTimeout(value: unknown, client: ClientDefaults): ResolvedTimeout {
  if (value === false) return { attempt: undefined, total: undefined, firstChunk: undefined, firstChunkIsAttempt: false };
  const timeout = objectWithKeys('timeout', value, ['attempt', 'total', 'firstChunk', 'idle']) ?? {};
  const attemptOption = durationOrFalse('timeout.attempt', timeout['attempt']);
  const total = durationOrFalse('timeout.total', timeout['total']);
  const firstChunk = durationOrFalse('timeout.firstChunk', timeout['firstChunk']);
  const attempt = attemptOption === false ? undefined : (attemptOption ?? clientNumber('timeout', client.timeout, LIMITS.duration, false) ?? TIMEOUT_DEFAULTS.attempt);
  return {
    attempt,
    total: total === false ? undefined : (total ?? TIMEOUT_DEFAULTS.total),
    firstChunk: firstChunk === false ? undefined : (firstChunk ?? attempt),
    firstChunkIsAttempt: firstChunk === undefined,
  };
}

export function resolvePolicies(value: unknown): ResolvedPolicies {
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

export function resolveFunction<F>(path: string, value: unknown): F | undefined {
  if (value !== undefined && typeof value !== 'function') fail(path, 'a function', value);
  return value as F | undefined;
}

export function resolveWindows(value: unknown): Readonly<Record<string, number>> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) fail('contextWindows', 'an object of model → tokens', value);
  const windows = value as Record<string, unknown>;
  for (const [model, tokens] of Object.entries(windows)) numberOption(`contextWindows.${model}`, tokens, { min: 1, max: LIMITS.tokens, integer: true });
  return windows as Record<string, number>;
}

export function resolveClock(value: unknown): Clock {
  if (value === undefined) return systemClock;
  const clock = value as Partial<Clock>;
  if (typeof clock.now !== 'function' || typeof clock.setTimeout !== 'function' || typeof clock.clearTimeout !== 'function') {
    fail('clock', 'an object with `now`, `setTimeout` and `clearTimeout`', value);
  }
  return value as Clock;
}
