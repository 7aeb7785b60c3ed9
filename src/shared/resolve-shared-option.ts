import { fail } from '../core/validate.js';
import type { SharedBackend } from './shared-backend.js';

const SHARED_METHODS = ['circuitAdmit', 'circuitOpen', 'circuitClose', 'circuitRelease', 'rateReserve', 'rateAdjust', 'rateLearn', 'ratePause'] as const;

/** `shared`: a complete shared-state backend, or none. */
export function resolveShared(value: unknown): SharedBackend | undefined {
  if (value === undefined) return undefined;
  const backend = value as Partial<Record<string, unknown>>;
  const complete =
    typeof value === 'object' && value !== null && typeof backend['name'] === 'string' &&
    SHARED_METHODS.every((name) => typeof backend[name] === 'function') &&
    [backend['timeout'], backend['retryInterval']].every((ms) => typeof ms === 'number' && ms > 0);
  if (!complete) fail('shared', 'a shared-state backend, such as `createRedisState(client)` from `openai-resilient/redis`', value);
  return value as SharedBackend;
}
