import type { CircuitSettings } from '../policies/circuit-breaker/circuit.js';
import type { BulkheadSettings } from '../policies/bulkhead/bulkhead.js';
import type { ModelLimits, RateLimitSettings } from '../policies/rate-limit/rate-limiter.js';
import type { RetryBudgetSettings } from '../policies/retry/retry-budget.js';
import type { BreakerKeyInput } from '../options.js';
import { LIMITS } from '../core/option-limits.js';
import { booleanOption, fail, isPlainObject, numberOption, objectWithKeys, shareOption } from '../core/validate.js';

/** Defaults of the protecting policies; the reasoning is in docs/policies.md. */
export const PROTECTION_DEFAULTS = Object.freeze({
  breaker: {
    consecutiveFailures: 5, failureRatio: 0.5, minimumCalls: 10, window: 60_000,
    halfOpenAfter: 1_000, jitter: true, halfOpenProbes: 1, waitForProbe: 2_000, maxQueued: 1_000,
  },
  bulkhead: { maxConcurrent: 100, maxQueued: 1_000, queueTimeout: 60_000 },
  rateLimit: { maxQueued: 1_000, tenantShare: 1 },
  budget: { ratio: 0.2, minRetries: 10, window: 60_000 },
});

export const NO_MODEL_KEY = '(no model)';

export interface ResolvedBreaker {
  readonly settings: CircuitSettings;
  readonly key: (request: BreakerKeyInput) => string;
}

export function resolveBreaker(value: unknown): ResolvedBreaker | undefined {
  if (value === false) return undefined;
  const d = PROTECTION_DEFAULTS.breaker;
  const o = objectWithKeys('circuitBreaker', value, [...Object.keys(d), 'maxHalfOpenAfter', 'key']) ?? {};
  const key = o['key'];
  if (key !== undefined && typeof key !== 'function') fail('circuitBreaker.key', 'a function', key);
  const halfOpenAfter = numberOption('circuitBreaker.halfOpenAfter', o['halfOpenAfter'], { min: 1, max: LIMITS.duration }) ?? d.halfOpenAfter;
  return {
    settings: {
      consecutiveFailures: numberOption('circuitBreaker.consecutiveFailures', o['consecutiveFailures'], { min: 1, max: LIMITS.count, integer: true }) ?? d.consecutiveFailures,
      failureRatio: numberOption('circuitBreaker.failureRatio', o['failureRatio'], { max: 1 }) ?? d.failureRatio,
      minimumCalls: numberOption('circuitBreaker.minimumCalls', o['minimumCalls'], { min: 1, max: LIMITS.count, integer: true }) ?? d.minimumCalls,
      window: numberOption('circuitBreaker.window', o['window'], { min: 1, max: LIMITS.duration }) ?? d.window,
      halfOpenAfter,
      maxHalfOpenAfter: numberOption('circuitBreaker.maxHalfOpenAfter', o['maxHalfOpenAfter'], { min: halfOpenAfter, max: LIMITS.duration }) ?? halfOpenAfter,
      jitter: booleanOption('circuitBreaker.jitter', o['jitter']) ?? d.jitter,
      halfOpenProbes: numberOption('circuitBreaker.halfOpenProbes', o['halfOpenProbes'], { min: 1, max: LIMITS.count, integer: true }) ?? d.halfOpenProbes,
      waitForProbe: numberOption('circuitBreaker.waitForProbe', o['waitForProbe'], { max: LIMITS.duration }) ?? d.waitForProbe,
      maxQueued: numberOption('circuitBreaker.maxQueued', o['maxQueued'], { max: LIMITS.count, integer: true }) ?? d.maxQueued,
    },
    key: (key as ResolvedBreaker['key'] | undefined) ?? ((request) => request.model ?? NO_MODEL_KEY),
  };
}

export function resolveBulkhead(value: unknown): BulkheadSettings | undefined {
  if (value === false) return undefined;
  const d = PROTECTION_DEFAULTS.bulkhead;
  const o = objectWithKeys('bulkhead', value, [...Object.keys(d), 'maxConcurrentPerTenant']) ?? {};
  const maxConcurrent = numberOption('bulkhead.maxConcurrent', o['maxConcurrent'], { min: 1, max: LIMITS.count, integer: true }) ?? d.maxConcurrent;
  return {
    maxConcurrent,
    maxQueued: numberOption('bulkhead.maxQueued', o['maxQueued'], { max: LIMITS.count, integer: true }) ?? d.maxQueued,
    queueTimeout: numberOption('bulkhead.queueTimeout', o['queueTimeout'], { min: 1, max: LIMITS.duration }) ?? d.queueTimeout,
    maxConcurrentPerTenant: numberOption('bulkhead.maxConcurrentPerTenant', o['maxConcurrentPerTenant'], { min: 1, max: LIMITS.count, integer: true }) ?? maxConcurrent,
  };
}

/** `maxPause` is `retry.maxRetryAfter`: no pause after a 429 lasts longer than a retry may wait. */
export function resolveRateLimit(value: unknown, maxPause: number): RateLimitSettings | undefined {
  if (value === false) return undefined;
  const d = PROTECTION_DEFAULTS.rateLimit;
  const o = objectWithKeys('rateLimit', value, ['requestsPerMinute', 'tokensPerMinute', 'models', 'learn', 'maxQueued', 'tenantShare']) ?? {};
  const models: Record<string, ModelLimits> = {};
  const given = o['models'];
  if (given !== undefined && !isPlainObject(given)) fail('rateLimit.models', 'an object of per-model limits', given);
  for (const [model, limits] of Object.entries(given ?? {})) models[model] = limitsOf(`rateLimit.models.${model}`, limits);
  const tenantShare = shareOption('rateLimit.tenantShare', o['tenantShare']) ?? d.tenantShare;
  return {
    defaults: limitsOf('rateLimit', { requestsPerMinute: o['requestsPerMinute'], tokensPerMinute: o['tokensPerMinute'] }),
    models,
    learn: booleanOption('rateLimit.learn', o['learn']) ?? true,
    maxQueued: numberOption('rateLimit.maxQueued', o['maxQueued'], { max: LIMITS.count, integer: true }) ?? d.maxQueued,
    tenantShare,
    maxPause,
  };
}

export function resolveBudget(value: unknown): RetryBudgetSettings | undefined {
  if (value === false) return undefined;
  const d = PROTECTION_DEFAULTS.budget;
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

function limitsOf(path: string, value: unknown): ModelLimits {
  const o = objectWithKeys(path, value, ['requestsPerMinute', 'tokensPerMinute']) ?? {};
  return {
    requestsPerMinute: numberOption(`${path}.requestsPerMinute`, o['requestsPerMinute'], { min: 1, max: LIMITS.requestsPerMinute }),
    tokensPerMinute: numberOption(`${path}.tokensPerMinute`, o['tokensPerMinute'], { min: 1, max: LIMITS.tokens }),
  };
}
