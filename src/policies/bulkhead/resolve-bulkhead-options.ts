import type { BulkheadSettings } from './bulkhead.js';
import { LIMITS } from '../../core/option-limits.js';
import { numberOption, objectWithKeys } from '../../core/validate.js';

/** Defaults of the bulkhead; the reasoning is in docs/policies.md. */
export const BULKHEAD_DEFAULTS = Object.freeze({ maxConcurrent: 100, maxQueued: 1_000, queueTimeout: 60_000, lowerClassEvery: 10 });

export function resolveBulkhead(value: unknown): BulkheadSettings | undefined {
  if (value === false) return undefined;
  const d = BULKHEAD_DEFAULTS;
  const o = objectWithKeys('bulkhead', value, [...Object.keys(d), 'maxConcurrentPerTenant']) ?? {};
  const maxConcurrent = numberOption('bulkhead.maxConcurrent', o['maxConcurrent'], { min: 1, max: LIMITS.count, integer: true }) ?? d.maxConcurrent;
  return {
    maxConcurrent,
    maxQueued: numberOption('bulkhead.maxQueued', o['maxQueued'], { max: LIMITS.count, integer: true }) ?? d.maxQueued,
    queueTimeout: numberOption('bulkhead.queueTimeout', o['queueTimeout'], { min: 1, max: LIMITS.duration }) ?? d.queueTimeout,
    maxConcurrentPerTenant: numberOption('bulkhead.maxConcurrentPerTenant', o['maxConcurrentPerTenant'], { min: 1, max: LIMITS.count, integer: true }) ?? maxConcurrent,
    lowerClassEvery: numberOption('bulkhead.lowerClassEvery', o['lowerClassEvery'], { min: 2, max: LIMITS.count, integer: true }) ?? d.lowerClassEvery,
  };
}
