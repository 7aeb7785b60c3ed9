import { LRUCache } from 'lru-cache';
import { requestLimits } from '../core/request-options.js';
import { executeCall } from '../pipeline/execute-call.js';
import type { PipelineContext, SharedState } from '../pipeline/pipeline-context.js';
import type { SdkRequestOptions } from '../core/request-info.js';
import { createResilience } from './resilience.js';
import { parsingInMemory } from './parse-in-memory.js';
import { carriedOptions, sdkErrorsOf, type SdkClientInternals } from '../core/sdk-internals.js';
import type { ResolvedOptions } from '../pipeline/resolved-options.js';
import type { TrafficClass } from '../core/traffic-class.js';
import { takeTrafficClass } from '../core/traffic-class-header.js';

/** Brand of a client that already runs through the pipeline. */
export const RESILIENT = Symbol.for('openai-resilient.client');

/** Tenant views kept per client view; the least recently used beyond it are rebuilt when asked for. */
const MAX_TENANT_VIEWS = 1_000;

/**
 * Makes `client` (a private clone, never the caller's instance) send every request through the pipeline,
 * by giving it an own `makeRequest` that calls the SDK's once per attempt with the SDK's retries off.
 * `withOptions()` is replaced so that derived clients are resilient too and share `shared`; their
 * `maxRetries` / `timeout` become that view's retry count and attempt timeout. A view keeps its tenant and
 * traffic class through `withOptions()`, `forTenant()` and `forClass()`; a request may declare its own class
 * with the `x-openai-resilient-class` header, which is removed before it is sent (see traffic-class-header.ts).
 */
export function installPipeline<T extends SdkClientInternals>(
  client: T,
  shared: SharedState,
  options: ResolvedOptions,
  tenant?: string,
  trafficClass: TrafficClass = 'default',
): T {
  const sendOnce = client.makeRequest;
  const deriveClient = client.withOptions;
  const ctx: PipelineContext = { options, shared, sdk: sdkErrorsOf(client), tenant, trafficClass, baseURL: String(client.baseURL ?? ''), client };

  define(client, 'makeRequest', async function makeRequest(
    optionsInput: unknown,
    _retriesRemaining: number | null,
    retryOfRequestLogID: string | undefined,
  ) {
    const received = (await optionsInput) as SdkRequestOptions;
    const declared = takeTrafficClass(received.headers);
    const requestOptions = declared.headers === received.headers ? received : { ...received, headers: declared.headers };
    const send = (attemptOptions: SdkRequestOptions) => sendOnce.call(client, attemptOptions, 0, retryOfRequestLogID);
    // Every public entry point (request, requestAPIList) passes no log id; the SDK passes one only when
    // it replays an attempt of ours itself (a workload-identity token refresh): send that one as is.
    if (retryOfRequestLogID !== undefined) return send(requestOptions);
    if (requestOptions === received) return executeCall(ctx, requestOptions, send);
    const callCtx = declared.trafficClass === undefined ? ctx : { ...ctx, trafficClass: declared.trafficClass };
    const props = await executeCall(callCtx, requestOptions, send);
    // The options kept with the answer keep the caller's headers: a list's next page declares the same class.
    return { ...props, options: { ...props.options, headers: received.headers } };
  });
  // The SDK's parsing step takes the JSON body the attempt has parsed (see parse-in-memory.ts).
  const parse = parsingInMemory(client.parseResponseWithTimeout);
  if (parse) define(client, 'parseResponseWithTimeout', parse);

  const derive = (overrides: Record<string, unknown>, viewTenant: string | undefined, viewClass: TrafficClass) => {
    const { maxRetries, timeout, ...rest } = overrides;
    const derived = deriveClient.call(client, { ...carriedOptions(client), ...rest, maxRetries: 0 }) as T;
    return installPipeline(derived, shared, viewOptions(options, maxRetries, timeout), viewTenant, viewClass);
  };
  define(client, 'withOptions', function withOptions(overrides: Record<string, unknown> = {}) {
    return derive(overrides, tenant, trafficClass);
  });

  const tenantViews = new LRUCache<string, T>({ max: MAX_TENANT_VIEWS });
  const forTenant = (name: string): T => {
    let view = tenantViews.get(name);
    if (!view) tenantViews.set(name, (view = derive({}, name, trafficClass)));
    return view;
  };
  const classViews = new Map<TrafficClass, T>();
  const forClass = (name: TrafficClass): T => {
    if (name === trafficClass) return client;
    let view = classViews.get(name);
    if (!view) classViews.set(name, (view = derive({}, tenant, name)));
    return view;
  };
  define(client, 'resilience', createResilience(shared, forTenant, forClass));
  define(client, RESILIENT, true);
  return client;
}

function viewOptions(options: ResolvedOptions, maxRetriesOption: unknown, timeoutOption: unknown): ResolvedOptions {
  const { maxRetries, timeout } = requestLimits({ maxRetries: maxRetriesOption, timeout: timeoutOption }, 'withOptions');
  if (maxRetries === undefined && timeout === undefined) return options;
  return {
    ...options,
    retry: maxRetries === undefined ? options.retry : { ...options.retry, maxRetries },
    timeout: timeout === undefined ? options.timeout : viewTimeout(options.timeout, timeout),
  };
}

/** A view's `timeout` bounds its attempts, and its streams' first chunk unless `timeout.firstChunk` was set. */
function viewTimeout(timeout: ResolvedOptions['timeout'], attempt: number): ResolvedOptions['timeout'] {
  return { ...timeout, attempt, firstChunk: timeout.firstChunkIsAttempt ? attempt : timeout.firstChunk };
}

function define(target: object, key: PropertyKey, value: unknown): void {
  Object.defineProperty(target, key, { value, configurable: true, writable: true, enumerable: false });
}
