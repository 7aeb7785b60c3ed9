import type { ClassSettings, ModelLimits, RateLimitSettings } from './rate-limiter.js';
import { LIMITS } from '../../core/option-limits.js';
import { booleanOption, fail, isPlainObject, numberOption, objectWithKeys, shareOption } from '../../core/validate.js';

/** Defaults of the rate limiter; the reasoning is in docs/policies.md. */
export const RATE_LIMIT_DEFAULTS = Object.freeze({ maxQueued: 1_000, tenantShare: 1, reservedShare: Object.freeze({ default: 0.1, background: 0.1 }) });

/** The largest reserved share a class may have (`rateLimit.classes.reservedShare`). */
const MAX_RESERVED_SHARE = 0.9;

/** `maxPause` is `retry.maxRetryAfter`: no pause after a 429 lasts longer than a retry may wait. */
export function resolveRateLimit(value: unknown, maxPause: number): RateLimitSettings | undefined {
  if (value === false) return undefined;
  const d = RATE_LIMIT_DEFAULTS;
  const o = objectWithKeys('rateLimit', value, ['requestsPerMinute', 'tokensPerMinute', 'models', 'learn', 'maxQueued', 'tenantShare', 'classes']) ?? {};
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
    classes: classesOf(o['classes']),
  };
}

/** `rateLimit.classes`, with the defaults. */
function classesOf(value: unknown): ClassSettings {
  const o = objectWithKeys('rateLimit.classes', value, ['reservedShare']) ?? {};
  const shares = objectWithKeys('rateLimit.classes.reservedShare', o['reservedShare'], ['default', 'background']) ?? {};
  const share = (name: 'default' | 'background') =>
    numberOption(`rateLimit.classes.reservedShare.${name}`, shares[name], { max: MAX_RESERVED_SHARE }) ?? RATE_LIMIT_DEFAULTS.reservedShare[name];
  return { reservedShare: { interactive: 0, default: share('default'), background: share('background') } };
}

function limitsOf(path: string, value: unknown): ModelLimits {
  const o = objectWithKeys(path, value, ['requestsPerMinute', 'tokensPerMinute']) ?? {};
  return {
    requestsPerMinute: numberOption(`${path}.requestsPerMinute`, o['requestsPerMinute'], { min: 1, max: LIMITS.requestsPerMinute }),
    tokensPerMinute: numberOption(`${path}.tokensPerMinute`, o['tokensPerMinute'], { min: 1, max: LIMITS.tokens }),
  };
}
