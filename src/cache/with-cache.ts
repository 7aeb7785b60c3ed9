import { classify } from '../classify/classify.js';
import type { TrafficClass } from '../core/traffic-class.js';
import type { SdkClientInternals, SdkErrors } from '../core/sdk-internals.js';
import type { RequestInfo, SdkRequestOptions } from '../core/request-info.js';
import { eventBase } from '../events/event-base.js';
import { statsScope } from '../stats/stats-scope.js';
import { accountScope, type AccountScope, type ClientView } from '../core/account-scope.js';
import type { Clock } from '../core/clock.js';
import type { EventBus } from '../events/event-bus.js';
import type { StatsCollector } from '../stats/stats-collector.js';
import { canonicalJson, NotPlainDataError } from '../core/fingerprint.js';
import { cacheKey, type CacheScope } from './cache-key.js';
import { recordBody, recordStream, replay } from './cache-record.js';
import type { CachedResponse } from './cache-store.js';
import type { ResponseCache } from './response-cache.js';
import type { ResponseProps } from '../core/response-props.js';

/** What the cache reads of its call's context (the pipeline's context is one). */
export interface CacheContext extends ClientView {
  readonly tenant: string | undefined;
  readonly trafficClass: TrafficClass;
  readonly options: { readonly clock: Clock };
  readonly shared: { readonly cache: ResponseCache | undefined; readonly events: EventBus; readonly stats: StatsCollector };
  readonly sdk: Pick<SdkErrors, 'APIUserAbortError'>;
}

/** The answer of the call behind the cache; one that `fellBack` (a fallback's) is never stored. */
export interface CallAnswer {
  readonly props: ResponseProps;
  readonly fellBack: boolean;
}

/** Per-request cache control: `bypass` (neither read nor write) or `refresh` (write, do not read). */
export const CACHE_CONTROL_HEADER = 'x-openai-resilient-cache';

/**
 * Request options that skip the cache for one call:
 * `ai.chat.completions.create(params, noCache)` or `{ ...noCache, signal }`.
 */
export const noCache = Object.freeze({ headers: Object.freeze({ [CACHE_CONTROL_HEADER]: 'bypass' }) });

/**
 * Serves a cacheable request from the cache, or joins the identical request already in flight, or runs
 * it (`run`) and stores the primary's complete successful answer (a real answer only: see `recordBody`).
 * With `staleIfError`, an expired entry answers when the call fails.
 */
export async function withCache(
  ctx: CacheContext,
  request: RequestInfo,
  options: SdkRequestOptions,
  run: (options: SdkRequestOptions) => Promise<CallAnswer>,
): Promise<ResponseProps> {
  const cache = ctx.shared.cache;
  const { control, headers, options: sent } = takeCacheControl(options);
  const { method, path, model, stream } = request;
  if (!cache || control === 'bypass' || !cache.settings.cacheable({ method, path, model, stream, body: options.body })) {
    return (await run(sent)).props;
  }
  const cacheScope = await scopeOf(ctx);
  if (!cacheScope) return (await run(sent)).props;
  let key: string;
  try {
    key = await cacheKey({ method, path, query: sent.query, body: sent.body, headers }, cacheScope);
  } catch (error) {
    if (error instanceof NotPlainDataError) return (await run(sent)).props;
    throw error;
  }

  const { events, stats } = ctx.shared;
  const scope = statsScope(ctx, request);
  const hit = (record: CachedResponse, how: 'fresh' | 'shared' | 'stale') => {
    if (events.has('cacheHit')) {
      const age = ctx.options.clock.now() - record.storedAt;
      events.emit('cacheHit', { ...eventBase(ctx, request), key, stale: how === 'stale', shared: how === 'shared', age });
    }
    stats.cached(scope, true);
    return replay(record, sent, how === 'stale' ? 'cache-stale' : 'cache');
  };
  let missed = false;
  const miss = () => {
    if (missed) return;
    missed = true;
    if (events.has('cacheMiss')) events.emit('cacheMiss', { ...eventBase(ctx, request), key });
    stats.cached(scope, false);
  };
  const entry = control === 'refresh' ? undefined : await cache.get(key);
  if (entry && cache.isFresh(entry)) return hit(entry, 'fresh');

  try {
    if (!request.stream && control !== 'refresh') {
      // Join the identical call in flight; if its caller gave up on it, the next one to lead takes over.
      for (let flight = cache.inflight(key); flight; flight = cache.inflight(key)) {
        const shared = await waitFor(flight, sent.signal, ctx, cache);
        if (shared) return hit(shared, 'shared');
      }
    }
    miss();
    return await lead(ctx, cache, key, request, sent, run);
  } catch (error) {
    if (entry && classify(error).kind !== 'aborted') return hit(entry, 'stale');
    miss();
    throw error;
  }
}

/** Runs the call as the one in flight for `key`, and stores the primary's complete successful answer. */
async function lead(
  ctx: CacheContext,
  cache: ResponseCache,
  key: string,
  request: RequestInfo,
  sent: SdkRequestOptions,
  run: (options: SdkRequestOptions) => Promise<CallAnswer>,
): Promise<ResponseProps> {
  const leader = request.stream ? undefined : cache.lead(key);
  try {
    const { props, fellBack } = await run(sent);
    if (fellBack || !props.response.ok || sent.__binaryResponse) {
      leader?.resolve(undefined);
      return props;
    }
    const { clock } = ctx.options;
    if (request.stream) {
      const response = recordStream(props.response, cache.settings.maxBytes, () => clock.now(), cache.settings.ttl, (record) => cache.put(key, record));
      return { ...props, response };
    }
    const record = await recordBody(props.response, clock.now(), cache.settings.ttl);
    if (record) cache.put(key, record);
    leader?.resolve(record);
    return props;
  } catch (error) {
    leader?.reject(error);
    throw error;
  }
}

/**
 * Waits for the identical call in flight. Its failure is shared (not cached); if it was aborted by its
 * own caller, or it answered with something not storable, this call runs on its own (`undefined`).
 */
async function waitFor(
  flight: Promise<CachedResponse | undefined>,
  signal: AbortSignal | null | undefined,
  ctx: CacheContext,
  cache: ResponseCache,
): Promise<CachedResponse | undefined> {
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    if (!signal) return;
    onAbort = () => reject(new ctx.sdk.APIUserAbortError());
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  cache.waiting++;
  try {
    return await Promise.race([flight, aborted]);
  } catch (error) {
    if (signal?.aborted) throw error;
    if (classify(error).kind === 'aborted') return undefined;
    throw error;
  } finally {
    cache.waiting--;
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Reads and removes the cache-control header (in any of the SDK's header forms), so that it never goes
 * upstream, and returns the per-request headers in the canonical form the key uses: lower-case names in a
 * plain object, `undefined` when there are none.
 */
function takeCacheControl(options: SdkRequestOptions): {
  control: string | undefined;
  headers: Record<string, string | null> | undefined;
  options: SdkRequestOptions;
} {
  if (options.headers === undefined || options.headers === null) return { control: undefined, headers: undefined, options };
  const entries = headerEntries(options.headers);
  if (entries === undefined) return { control: undefined, headers: undefined, options };
  const control = entries.find(([name]) => name === CACHE_CONTROL_HEADER)?.[1] ?? undefined;
  const rest = entries.filter(([name]) => name !== CACHE_CONTROL_HEADER);
  const headers = rest.length === 0 ? undefined : Object.fromEntries(rest);
  if (control === undefined) return { control, headers, options };
  return { control, headers, options: { ...options, headers: headers ?? undefined } };
}

/** The per-request headers as lower-case `[name, value]` pairs, or `undefined` for a form we cannot read. */
function headerEntries(headers: unknown): Array<[string, string | null]> | undefined {
  if (headers instanceof Headers) return [...headers];
  if (Array.isArray(headers)) {
    return headers
      .filter((pair): pair is [string, unknown] => Array.isArray(pair) && typeof pair[0] === 'string')
      .map(([name, value]) => [name.toLowerCase(), value === null ? null : String(value)]);
  }
  if (typeof headers === 'object' && Object.getPrototypeOf(headers) === Object.prototype) {
    return Object.entries(headers as Record<string, unknown>)
      .filter(([, value]) => value !== undefined)
      .map(([name, value]) => [name.toLowerCase(), value === null ? null : String(value)]);
  }
  return undefined;
}

/**
 * The scope of this client view (its account, defaults and tenant) in canonical form, computed again only
 * when its account changes (a rotated API key, another key from an `apiKey` function). `undefined` when
 * the call must not use the cache: its `apiKey` function failed, or the client has no API key to tell its
 * account from others and no tenant says whose call it is.
 */
async function scopeOf(ctx: CacheContext): Promise<{ canonical: string } | undefined> {
  const current = await accountScope(ctx);
  if (!current || (!current.keyed && ctx.tenant === undefined)) return undefined;
  const { account } = current;
  const known = scopes.get(ctx);
  if (known && known.account === account) return known.scope;
  const client = ctx.client as SdkClientInternals;
  const scope: CacheScope = {
    ...account,
    defaults: { headers: plain(client._options?.defaultHeaders), query: plain(client._options?.defaultQuery) },
    tenant: ctx.tenant,
  };
  const canonical = { canonical: canonicalJson(scope) };
  scopes.set(ctx, { account, scope: canonical });
  return canonical;
}

const scopes = new WeakMap<CacheContext, { account: AccountScope; scope: { canonical: string } }>();

function plain(value: unknown): unknown {
  return value instanceof Headers ? Object.fromEntries(value) : (value ?? null);
}
