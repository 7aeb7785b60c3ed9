import type { CircuitSettings } from './circuit.js';
import type { BreakerKeyInput } from './circuit-breaker-options.js';
import { LIMITS } from '../../core/option-limits.js';
import { booleanOption, fail, numberOption, objectWithKeys } from '../../core/validate.js';

/** Defaults of the circuit breaker; the reasoning is in docs/policies.md. */
export const BREAKER_DEFAULTS = Object.freeze({
  consecutiveFailures: 5, failureRatio: 0.5, minimumCalls: 10, window: 60_000,
  halfOpenAfter: 1_000, jitter: true, halfOpenProbes: 1, waitForProbe: 2_000, maxQueued: 1_000,
});

export const NO_MODEL_KEY = '(no model)';

export interface ResolvedBreaker {
  readonly settings: CircuitSettings;
  readonly key: (request: BreakerKeyInput) => string;
}

export function resolveBreaker(value: unknown): ResolvedBreaker | undefined {
  if (value === false) return undefined;
  const d = BREAKER_DEFAULTS;
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
