import { LIMITS } from '../core/option-limits.js';
import { fail, numberOption, objectWithKeys } from '../core/validate.js';

/** Options of `createRedisState()`. Each duration is at most 2_147_483_647 ms (about 24.8 days). */
export interface RedisStateOptions {
  /**
   * Prepended to every key, so that several applications (or environments) can share one Redis.
   * @default 'openai-resilient:'
   */
  readonly prefix?: string | undefined;
  /**
   * Longest wait for one Redis command, in milliseconds; past it the call goes on with this process's
   * own state. It bounds what an unhealthy Redis can add to a call.
   * @default 250
   */
  readonly timeout?: number | undefined;
  /** After Redis failed, how long only local state is used before trying Redis again, in milliseconds. @default 1_000 */
  readonly retryInterval?: number | undefined;
  /**
   * How long a probe holds its lease, in milliseconds: a circuit's half-open probe (other processes fail
   * fast meanwhile), and the call that ends a rate-limit pause cut short at `retry.maxRetryAfter` (other
   * processes wait for its answer). A probe whose process dies frees its place after this long.
   * @default 30_000
   */
  readonly probeLease?: number | undefined;
  /**
   * How long a model's rate state (learned limits, buckets) is kept after its last use, in milliseconds (or
   * while a pause runs, if longer; a pause never runs longer than `retry.maxRetryAfter`).
   * @default 600_000
   */
  readonly rateStateTtl?: number | undefined;
  /**
   * How long a call holds its lease on one of its tenant's slots (`bulkhead.maxConcurrentPerTenant`), in
   * milliseconds. The process renews the leases of its calls in flight every third of it; a process that
   * dies frees its tenants' slots after this long.
   * @default 30_000
   */
  readonly slotLease?: number | undefined;
}

export type RedisStateSettings = Required<{ [K in keyof RedisStateOptions]: Exclude<RedisStateOptions[K], undefined> }>;

export const REDIS_STATE_DEFAULTS: RedisStateSettings = Object.freeze({
  prefix: 'openai-resilient:',
  timeout: 250,
  retryInterval: 1_000,
  probeLease: 30_000,
  rateStateTtl: 600_000,
  slotLease: 30_000,
});

export function resolveRedisStateOptions(options: unknown): RedisStateSettings {
  const o = objectWithKeys('createRedisState', options, Object.keys(REDIS_STATE_DEFAULTS)) ?? {};
  const prefix = o['prefix'] ?? REDIS_STATE_DEFAULTS.prefix;
  if (typeof prefix !== 'string') fail('createRedisState.prefix', 'a string', prefix);
  const d = REDIS_STATE_DEFAULTS;
  return {
    prefix,
    timeout: numberOption('createRedisState.timeout', o['timeout'], { min: 1, max: LIMITS.duration }) ?? d.timeout,
    retryInterval: numberOption('createRedisState.retryInterval', o['retryInterval'], { min: 1, max: LIMITS.duration }) ?? d.retryInterval,
    probeLease: numberOption('createRedisState.probeLease', o['probeLease'], { min: 1, max: LIMITS.duration, integer: true }) ?? d.probeLease,
    rateStateTtl: numberOption('createRedisState.rateStateTtl', o['rateStateTtl'], { min: 1, max: LIMITS.duration, integer: true }) ?? d.rateStateTtl,
    slotLease: numberOption('createRedisState.slotLease', o['slotLease'], { min: 3, max: LIMITS.duration, integer: true }) ?? d.slotLease,
  };
}
