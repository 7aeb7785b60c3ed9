import type { HedgeSettings } from './hedger.js';
import { LIMITS } from '../../core/option-limits.js';
import { fail, isPlainObject, numberOption, objectWithKeys, shareOption } from '../../core/validate.js';

export const HEDGE_DEFAULTS = Object.freeze({ percentile: 95, maxExtraAttempts: 1, maxHedgedShare: 0.1, minSamples: 20 });

/** `hedge`: off unless `true` or an options object. */
export function resolveHedge(value: unknown): HedgeSettings | undefined {
  if (value === undefined || value === false) return undefined;
  const d = HEDGE_DEFAULTS;
  const o = value === true ? {} : (objectWithKeys('hedge', value, ['delay', 'maxExtraAttempts', 'maxHedgedShare', 'minSamples']) ?? {});
  const maxHedgedShare = shareOption('hedge.maxHedgedShare', o['maxHedgedShare']) ?? d.maxHedgedShare;
  return {
    delay: resolveDelay(o['delay']),
    maxExtraAttempts: numberOption('hedge.maxExtraAttempts', o['maxExtraAttempts'], { min: 1, max: LIMITS.hedges, integer: true }) ?? d.maxExtraAttempts,
    maxHedgedShare,
    minSamples: numberOption('hedge.minSamples', o['minSamples'], { min: 1, max: LIMITS.hedgeSamples, integer: true }) ?? d.minSamples,
  };
}

function resolveDelay(value: unknown): HedgeSettings['delay'] {
  if (value === undefined) return { percentile: HEDGE_DEFAULTS.percentile };
  if (typeof value === 'number') return numberOption('hedge.delay', value, { min: 1, max: LIMITS.duration })!;
  if (!isPlainObject(value)) fail('hedge.delay', 'milliseconds or `{ percentile }`', value);
  const o = objectWithKeys('hedge.delay', value, ['percentile'])!;
  const percentile = o['percentile'];
  if (typeof percentile !== 'number' || !(percentile >= 1 && percentile < 100)) fail('hedge.delay.percentile', 'a number in [1, 100)', percentile);
  return { percentile };
}
