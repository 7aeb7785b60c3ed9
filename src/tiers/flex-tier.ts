import type { Classification } from '../classify/classify.js';
import type { RequestInfo } from '../core/request-info.js';
import type { TrafficClass } from '../core/traffic-class.js';
import { isPlainObject } from '../core/validate.js';
import type { FlexSettings } from './resolve-flex-options.js';

/** The endpoints that take `service_tier: 'flex'`. */
const FLEX_PATHS: ReadonlySet<string> = new Set(['/chat/completions', '/responses']);

/**
 * The body to send at flex, or `undefined` when the call keeps its own tier: a Chat Completions or
 * Responses request of one of `flex.classes`, for one of `flex.models`, that sets no `service_tier` itself
 * (the caller's choice wins, `'auto'` and `'default'` included) and whose model has not refused flex.
 */
export function flexBody(settings: FlexSettings, request: RequestInfo, trafficClass: TrafficClass, body: unknown): Record<string, unknown> | undefined {
  if (!settings.classes.has(trafficClass) || request.method !== 'POST' || !FLEX_PATHS.has(request.path)) return undefined;
  const { model } = request;
  if (model === undefined || !isPlainObject(body) || body['service_tier'] !== undefined) return undefined;
  if ((settings.models && !settings.models.has(model)) || settings.refusing.has(model)) return undefined;
  return { ...body, service_tier: 'flex' };
}

/**
 * Why a request sent at flex failed for its tier, if it did: `'unavailable'` (a 429 Resource Unavailable:
 * flex has no capacity now, and the request was not charged) or `'unsupported'` (a 400 naming
 * `service_tier`: this model is not offered at flex).
 */
export function flexRefusal(classification: Classification, error: unknown): 'unavailable' | 'unsupported' | undefined {
  if (classification.kind === 'resource_unavailable') return 'unavailable';
  if (classification.kind !== 'bad_request') return undefined;
  const { param, message } = error as { param?: unknown; message?: unknown };
  if (param === 'service_tier') return 'unsupported';
  return typeof message === 'string' && /service[_ ]tier|\bflex\b/i.test(message) ? 'unsupported' : undefined;
}
