import { formatLimit, LIMITS } from './option-limits.js';
import { fail } from './validate.js';

/**
 * The SDK's per-request `maxRetries` and `timeout` (`create(body, { maxRetries, timeout })`), or the ones
 * a view is given (`withOptions({ maxRetries, timeout })`), after checking: `undefined` when absent.
 */
export interface RequestLimits {
  readonly maxRetries: number | undefined;
  readonly timeout: number | undefined;
}

/** How an invalid option is named: as a request option, or inside `withOptions({ ... })`. */
export type RequestOptionPlace = 'request' | 'withOptions';

/**
 * Checks `options`' own `maxRetries` and `timeout` as `resilient()` checks its options, throwing a
 * `TypeError` that names the invalid one. (The SDK itself turns an invalid `maxRetries` into 2 without a
 * word, and rejects a non-integer `timeout` with an `OpenAIError`.)
 */
export function requestLimits(options: { readonly maxRetries?: unknown; readonly timeout?: unknown }, where: RequestOptionPlace): RequestLimits {
  return {
    maxRetries: requestMaxRetries(options.maxRetries, where),
    timeout: requestTimeout(options.timeout, where),
  };
}

function named(key: string, where: RequestOptionPlace): { path: string; what?: string } {
  return where === 'request' ? { path: key, what: 'the request option' } : { path: `withOptions({ ${key} })` };
}

function requestMaxRetries(value: unknown, where: RequestOptionPlace): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= LIMITS.retries) return value;
  const { path, what } = named('maxRetries', where);
  return fail(path, `an integer from 0 to ${formatLimit(LIMITS.retries)}`, value, { what });
}

function requestTimeout(value: unknown, where: RequestOptionPlace): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= LIMITS.duration) return value;
  const { path, what } = named('timeout', where);
  const digits = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? value.trim() : undefined;
  const hint = digits === undefined ? undefined : `write the number ${digits}`;
  return fail(path, `an integer from 1 to ${formatLimit(LIMITS.duration)} (milliseconds, for each attempt)`, value, { what, hint });
}
