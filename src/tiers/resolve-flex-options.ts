import { LRUCache } from 'lru-cache';
import { trafficClassOption } from '../core/traffic-class-option.js';
import type { TrafficClass } from '../core/traffic-class.js';
import { fail, objectWithKeys } from '../core/validate.js';

/** Models a client remembers as refusing flex, at most (the oldest is forgotten first). */
const MAX_REFUSING_MODELS = 1_000;
/** Entries of `flex.models`, at most. */
const MAX_MODELS = 10_000;

/** `flex` after defaults and validation. */
export interface FlexSettings {
  readonly classes: ReadonlySet<TrafficClass>;
  /** `undefined`: every model. */
  readonly models: ReadonlySet<string> | undefined;
  readonly whenUnavailable: 'default' | 'retry';
  /** Models that refused flex with a 400 naming `service_tier`: sent at their usual tier from then on. */
  readonly refusing: LRUCache<string, true>;
}

/** `flex`: off unless `true` or an options object. */
export function resolveFlex(value: unknown): FlexSettings | undefined {
  if (value === undefined || value === false) return undefined;
  const o = value === true ? {} : (objectWithKeys('flex', value, ['classes', 'models', 'whenUnavailable']) ?? {});
  const whenUnavailable = o['whenUnavailable'] ?? 'default';
  if (whenUnavailable !== 'default' && whenUnavailable !== 'retry') fail('flex.whenUnavailable', "'default' or 'retry'", whenUnavailable);
  return {
    classes: new Set(o['classes'] === undefined ? ['background'] : list('flex.classes', o['classes']).map((name, i) => trafficClassOption(`\`flex.classes[${i}]\``, name))),
    models: o['models'] === undefined ? undefined : new Set(list('flex.models', o['models']).map((model, i) => modelName(`flex.models[${i}]`, model))),
    whenUnavailable,
    refusing: new LRUCache({ max: MAX_REFUSING_MODELS }),
  };
}

function list(path: string, value: unknown): unknown[] {
  if (!Array.isArray(value) || value.length > MAX_MODELS) fail(path, 'an array of at most 10_000 entries', value);
  return value;
}

function modelName(path: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') fail(path, 'a model name', value);
  return value;
}
