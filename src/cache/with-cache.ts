import { classify } from '../classify/classify.js';
import type { SdkClientInternals } from '../client/sdk-internals.js';
import type { FallbackResult } from '../fallback/with-fallbacks.js';
import type { PipelineContext } from '../pipeline/pipeline-context.js';
import type { RequestInfo, SdkRequestOptions } from '../pipeline/request-info.js';
import { eventBase } from '../pipeline/retry-loop.js';
import type { ResponseProps } from '../pipeline/transport.js';
import { cacheKey, NotPlainDataError, sha256Hex, type CacheScope } from './cache-key.js';
import { recordBody, recordStream, replay } from './cache-record.js';

/** Per-request cache control: `bypass` (neither read nor write) or `refresh` (write, do not read). */
export const CACHE_CONTROL_HEADER = 'x-openai-resilient-cache';

/**
 * Request options that skip the cache for one call:
 * `ai.chat.completions.create(params, noCache)` or `{ ...noCache, signal }`.
 */
export const noCache = Object.freeze({ headers: Object.freeze({ [CACHE_CONTROL_HEADER]: 'bypass' }) });

/**
 * Serves a cacheable request from the cache, or joins the identical request already in flight, or runs
 * it (`run`) and stores the primary's complete successful answer. With `staleIfError`, an expired entry
 * answers when the call fails.
 */
export async function withCache(
  ctx: PipelineContext,
  request: RequestInfo,
  options: SdkRequestOptions,
  run: (options: SdkRequestOptions) => Promise<FallbackResult>,
): Promise<ResponseProps> {
  const cache = ctx.shared.cache;
  const { control, options: sent } = takeCacheControl(options);
  if (!cache || control === 'bypass' || !cache.settings.cacheable({ ...request, body: options.body })) {
    return (await run(sent)).props;
  }
  let key: string;
  try {
    key = await cacheKey(
      { method: request.method, path: request.path, query: sent.query, body: sent.body, headers: sent.headers },
      await scopeOf(ctx),
    );
  } catch (error) {
    if (error instanceof NotPlainDataError) return (await run(sent)).props;
    throw error;
  }

  const { events, stats } = ctx.shared;
  const scope = { model: request.model, tenant: ctx.tenant };
  const entry = control === 'refresh' ? undefined : await cache.get(key);
  if (entry && cache.isFresh(entry)) {
    events.emit('cacheHit', { ...eventBase(ctx, request), key, stale: false, age: ctx.options.clock.now() - entry.storedAt });
    stats.cached(scope, true);
    return replay(entry, sent, 'cache');
  }
  events.emit('cacheMiss', { ...eventBase(ctx, request), key });
  stats.cached(scope, false);

  if (!request.stream) {
    const flight = cache.inflight(key);
    if (flight) {
      const shared = await waitFor(flight, sent.signal, ctx);
      if (shared) return replay(shared, sent, 'cache');
    }
  }

  const leader = request.stream ? undefined : cache.lead(key);
  try {
    const { props, fellBack } = await run(sent);
    const storable = !fellBack && props.response.ok && !sent.__binaryResponse;
    if (!storable) {
      leader?.resolve(undefined);
      return props;
    }
    const { clock } = ctx.options;
    if (request.stream) {
      const response = recordStream(props.response, cache.settings.maxBytes, () => clock.now(), cache.settings.ttl, (record) => cache.put(key, record));
      return { ...props, response };
    }
    const record = await recordBody(props.response, clock.now(), cache.settings.ttl);
    cache.put(key, record);
    leader?.resolve(record);
    return props;
  } catch (error) {
    leader?.reject(error);
    if (entry && classify(error).kind !== 'aborted') {
      events.emit('cacheHit', { ...eventBase(ctx, request), key, stale: true, age: ctx.options.clock.now() - entry.storedAt });
      return replay(entry, sent, 'cache-stale');
    }
    throw error;
  }
}

/**
 * Waits for the identical call in flight. Its failure is shared (not cached); if it was aborted by its
 * own caller, or it answered with something not storable, this call runs on its own (`undefined`).
 */
async function waitFor(
  flight: Promise<Awaited<ReturnType<NonNullable<PipelineContext['shared']['cache']>['inflight']>>>,
  signal: AbortSignal | null | undefined,
  ctx: PipelineContext,
) {
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    if (!signal) return;
    onAbort = () => reject(new ctx.sdk.APIUserAbortError());
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([flight, aborted]);
  } catch (error) {
    if (signal?.aborted) throw error;
    if (classify(error).kind === 'aborted') return undefined;
    throw error;
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

/** Reads and removes the cache-control header, so that it never goes upstream. */
function takeCacheControl(options: SdkRequestOptions): { control: string | undefined; options: SdkRequestOptions } {
  const headers = options.headers;
  if (headers instanceof Headers) {
    const control = headers.get(CACHE_CONTROL_HEADER) ?? undefined;
    if (control === undefined) return { control, options };
    const copy = new Headers(headers);
    copy.delete(CACHE_CONTROL_HEADER);
    return { control, options: { ...options, headers: copy } };
  }
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) return { control: undefined, options };
  const entry = Object.entries(headers).find(([name]) => name.toLowerCase() === CACHE_CONTROL_HEADER);
  if (!entry) return { control: undefined, options };
  const rest = Object.fromEntries(Object.entries(headers).filter(([name]) => name !== entry[0]));
  return { control: String(entry[1]), options: { ...options, headers: rest } };
}

/** The scope of this client view: endpoint, organization, project, defaults, tenant and a key fingerprint. */
async function scopeOf(ctx: PipelineContext): Promise<CacheScope> {
  const client = ctx.client as SdkClientInternals & {
    apiKey?: unknown;
    organization?: string | null;
    project?: string | null;
    _callApiKey?: () => Promise<unknown>;
  };
  if (client.apiKey == null && typeof client._callApiKey === 'function') await client._callApiKey().catch(() => undefined);
  const apiKey = typeof client.apiKey === 'string' ? client.apiKey : '';
  return {
    baseURL: ctx.baseURL,
    organization: client.organization,
    project: client.project,
    keyFingerprint: await fingerprintOf(client, apiKey),
    defaults: { headers: plain(client._options?.defaultHeaders), query: plain(client._options?.defaultQuery) },
    tenant: ctx.tenant,
  };
}

/** The last fingerprint per client view: hashed again only when its key changes. */
const fingerprints = new WeakMap<object, { apiKey: string; fingerprint: Promise<string> }>();

function fingerprintOf(client: object, apiKey: string): Promise<string> {
  const known = fingerprints.get(client);
  if (known?.apiKey === apiKey) return known.fingerprint;
  const fingerprint = sha256Hex(`openai-resilient:${apiKey}`);
  fingerprints.set(client, { apiKey, fingerprint });
  return fingerprint;
}

function plain(value: unknown): unknown {
  return value instanceof Headers ? Object.fromEntries(value) : (value ?? null);
}
