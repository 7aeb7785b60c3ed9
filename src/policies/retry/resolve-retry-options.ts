import type { IBackoffFactory } from 'cockatiel';
import { clientNumber, type ClientDefaults } from '../../core/client-defaults.js';
import { LIMITS } from '../../core/option-limits.js';
import { booleanOption, fail, numberOption, objectWithKeys } from '../../core/validate.js';
import { ExponentialJitterBackoff } from './backoff.js';
import type { RetryBudgetSettings } from './retry-budget.js';
import type { RetryBackoffContext } from './retry-options.js';

export const RETRY_DEFAULTS = Object.freeze({ maxRetries: 2, initialDelay: 500, maxDelay: 30_000, maxRetryAfter: 60_000 });

/** Defaults of the retry budget; the reasoning is in docs/policies.md. */
export const BUDGET_DEFAULTS = Object.freeze({ ratio: 0.2, minRetries: 10, window: 60_000 });

/** `retry` after defaults and validation. */
export interface ResolvedRetry {
  readonly maxRetries: number;
  readonly maxRetryAfter: number;
  readonly backoff: IBackoffFactory<RetryBackoffContext>;
  readonly budget: RetryBudgetSettings | undefined;
}

/** `retry`, with the wrapped client's own `maxRetries` as its default. */
export function resolveRetry(value: unknown, client: ClientDefaults): ResolvedRetry {
  if (value === false) {
    return { maxRetries: 0, maxRetryAfter: RETRY_DEFAULTS.maxRetryAfter, backoff: new ExponentialJitterBackoff(), budget: undefined };
  }
  const retry = objectWithKeys('retry', value, [
    'maxRetries', 'initialDelay', 'maxDelay', 'maxRetryAfter', 'jitter', 'backoff', 'budget',
  ]) ?? {};
  const initialDelay = numberOption('retry.initialDelay', retry['initialDelay'], { max: LIMITS.duration }) ?? RETRY_DEFAULTS.initialDelay;
  const maxDelay = numberOption('retry.maxDelay', retry['maxDelay'], { max: LIMITS.duration }) ?? Math.max(RETRY_DEFAULTS.maxDelay, initialDelay);
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
      RETRY_DEFAULTS.maxRetries,
    maxRetryAfter: numberOption('retry.maxRetryAfter', retry['maxRetryAfter'], { max: LIMITS.duration }) ?? RETRY_DEFAULTS.maxRetryAfter,
    backoff:
      (backoff as IBackoffFactory<RetryBackoffContext> | undefined) ??
      new ExponentialJitterBackoff({ initialDelay, maxDelay, jitter }),
    budget: resolveBudget(retry['budget']),
  };
}

export function resolveBudget(value: unknown): RetryBudgetSettings | undefined {
  if (value === false) return undefined;
  const d = BUDGET_DEFAULTS;
  if (typeof value === 'number' || value === undefined) {
    return { ...d, ratio: numberOption('retry.budget', value, { max: LIMITS.retries }) ?? d.ratio };
  }
  const o = objectWithKeys('retry.budget', value, Object.keys(d))!;
  return {
    ratio: numberOption('retry.budget.ratio', o['ratio'], { max: LIMITS.retries }) ?? d.ratio,
    minRetries: numberOption('retry.budget.minRetries', o['minRetries'], { max: LIMITS.count, integer: true }) ?? d.minRetries,
    window: numberOption('retry.budget.window', o['window'], { min: 1, max: LIMITS.duration }) ?? d.window,
  };
}
