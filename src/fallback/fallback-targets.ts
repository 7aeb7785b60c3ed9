import type { Classification } from '../classify/classify.js';
import type { ErrorKind } from '../errors/error-kind.js';
import type { ResolvedFallback, ResolvedFallbackClient } from './resolve-fallback-options.js';

/** Where a fallback step goes: another model on the same client, or another client. */
export type FallbackTarget =
  | { readonly kind: 'model'; readonly model: string }
  | { readonly kind: 'client'; readonly client: ResolvedFallbackClient; readonly index: number; readonly model: string | undefined };

/**
 * Kinds another model or provider can fix, once the primary's own recovery gave up: an outage of that
 * model (after retries), an open circuit, an exhausted quota or rate limit (another model or account has
 * its own), a tier without capacity, a model the endpoint does not know. Never a request that is wrong everywhere (`bad_request`,
 * `unprocessable`), credentials (`authentication`, `permission_denied`), the caller's abort or the
 * deadline. `context_length_exceeded` goes only to the `contextWindow` models. Neither `budget_exceeded`
 * (unless `fallback.on` lists it: see {@link fallsBackOn}).
 */
export const FALLBACK_KINDS: ReadonlySet<ErrorKind> = new Set<ErrorKind>([
  'quota_exhausted', 'rate_limited', 'resource_unavailable', 'rate_limit_timeout', 'server_error', 'overloaded', 'timeout',
  'connection', 'malformed_response', 'circuit_open', 'not_found',
]);

/** Whether a failure of `kind` falls back: a default kind, or one `fallback.on` lists (`budget_exceeded`...). */
export function fallsBackOn(config: Pick<ResolvedFallback, 'on'>, kind: ErrorKind): boolean {
  return FALLBACK_KINDS.has(kind) || config.on.has(kind);
}

/** At most this many fallback steps per call, whatever the configuration. */
export const MAX_FALLBACK_STEPS = 10;

/** The fallback steps for a failed primary, in order (empty when the failure is not one to fall back on). */
export function fallbackTargets(
  config: ResolvedFallback,
  model: string | undefined,
  jsonBody: boolean,
  failure: Classification & { readonly message?: string },
): FallbackTarget[] {
  if (failure.kind === 'context_length_exceeded') {
    return jsonBody && model !== undefined
      ? (config.contextWindow[model] ?? []).map((to) => ({ kind: 'model' as const, model: to })).slice(0, MAX_FALLBACK_STEPS)
      : [];
  }
  if (!fallsBackOn(config, failure.kind)) return [];
  if (failure.kind === 'not_found' && !isModelNotFound(failure)) return [];
  const models: FallbackTarget[] =
    jsonBody && model !== undefined ? (config.models[model] ?? []).map((to) => ({ kind: 'model', model: to })) : [];
  const clients: FallbackTarget[] = config.clients.map((client, index) => ({
    kind: 'client',
    client,
    index,
    model: client.model(model),
  }));
  return [...models, ...clients].slice(0, MAX_FALLBACK_STEPS);
}

/** A 404 falls back only when it is about the model, not about a file or a thread. */
function isModelNotFound(failure: Classification & { readonly message?: string }): boolean {
  return failure.code === 'model_not_found' || /\bmodel\b/i.test(failure.message ?? '');
}
