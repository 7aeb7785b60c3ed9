import { withCache } from '../cache/with-cache.js';
import { eventBase } from '../events/event-base.js';
import { statsScope } from '../stats/stats-scope.js';
import type { SdkClientInternals } from '../core/sdk-internals.js';
import { DeadlineExceededError } from '../errors/deadline-exceeded-error.js';
import { onSdkCopy } from '../errors/sdk-copies.js';
import type { FallbackTarget } from '../fallback/fallback-targets.js';
import { fallsBackWhenOpen, withFallbacks, type FallbackResult } from '../fallback/with-fallbacks.js';
import { AbortScope, type Abortable } from '../core/abort-scope.js';
import { systemClock } from '../core/clock.js';
import { requestLimits } from '../core/request-options.js';
import { withTrafficClass } from '../core/traffic-class-header.js';
import type { TrafficClass } from '../core/traffic-class.js';
import { CallEnd } from './call-end.js';
import { underCallPolicy } from './call-policy.js';
import type { PipelineContext } from './pipeline-context.js';
import { describeRequest, type RequestInfo, type SdkRequestOptions } from '../core/request-info.js';
import { retryLoop } from './retry-loop.js';
import { relayStream } from '../responses/relayed-response.js';
import type { ResponseProps, SendOnce } from '../core/response-props.js';

/** The abort reason of a call whose total deadline ran out. */
class DeadlineReached {}

/**
 * Runs one SDK request through the pipeline, outermost first:
 *
 * `cache (+ single-flight) → timeout.total → policies.call → fallback → retry (+ budget) → hedge → budgets → circuit breaker → rate limiter →
 * bulkhead → policies.attempt → timeout.attempt → transport`
 *
 * The caller's own abort always wins and is never retried; the deadline ends the call with
 * `DeadlineExceededError`; every other failure is classified, retried, handed to a fallback target, or
 * handed to the caller as the SDK's own error. An error of ours leaves built on the client's own SDK copy.
 */
export async function executeCall(ctx: PipelineContext, options: SdkRequestOptions, send: SendOnce): Promise<ResponseProps> {
  // An invalid `maxRetries` or `timeout` rejects the call before anything starts (no events, no request),
  // as the SDK rejects its own invalid `timeout`.
  requestLimits(options, 'request');
  const request = describeRequest(options);
  const { clock } = ctx.options;
  const { events } = ctx.shared;
  const startedAt = clock.now();
  if (events.has('callStart')) events.emit('callStart', { ...eventBase(ctx, request), stream: request.stream });
  const call = new CallEnd(ctx, request, startedAt);
  try {
    const props = await withCache(ctx, request, options, (sent) => runCall(ctx, request, sent, send, call));
    if (request.stream) ctx.shared.stats.streamStarted(statsScope(ctx, request), clock.now() - startedAt);
    call.handedOver();
    return props;
  } catch (error) {
    // An error of ours reaches the caller built on the client's own SDK copy (whose helpers wrap others).
    onSdkCopy(error, ctx.sdk.OpenAIError);
    call.failed(error);
    throw error;
  }
}

/** {@link executeCall}, also saying whether a fallback answered (the cache keeps only the primary's answers). */
export async function runCall(
  ctx: PipelineContext,
  request: RequestInfo,
  options: SdkRequestOptions,
  send: SendOnce,
  ending: Pick<CallEnd, 'streamStarted' | 'streamEnded'>,
): Promise<FallbackResult> {
  const { clock, timeout, policies } = ctx.options;
  const callerSignal = options.signal ?? undefined;
  const scope = new AbortScope(clock, [callerSignal]);
  const total = timeout.total;
  const startedAt = clock.now();
  const deadlineAt = total === undefined ? undefined : startedAt + total;
  if (total !== undefined) scope.abortAfterOnDemand(total, () => new DeadlineReached());

  let streaming = false;
  let deadlineAnnounced = false;
  const translateAbort = (attempt: number, lastError: unknown): Error | undefined => {
    if (callerSignal?.aborted) return new ctx.sdk.APIUserAbortError();
    if (!(scope.reason instanceof DeadlineReached)) return undefined;
    if (!deadlineAnnounced) {
      deadlineAnnounced = true;
      ctx.shared.events.emit('timeout', { ...eventBase(ctx, request), timeout: 'total', limit: total! });
    }
    return new DeadlineExceededError(total!, attempt, lastError);
  };
  const hooks = {
    deadlineAt,
    timed: callerSignal === undefined && !policies.call && !policies.attempt && clock === systemClock,
    onDeadline: () => scope.abort(new DeadlineReached()),
    onStreamStart: () => {
      streaming = true;
      ending.streamStarted();
    },
    onStreamEnd: (error?: unknown) => {
      scope.dispose();
      ending.streamEnded(error);
    },
    translateAbort,
    // A call that a fallback can serve does not wait for an open circuit (only the last step may).
    waitForCircuit: !fallsBackWhenOpen(ctx, request, options),
  };
  const working: SdkRequestOptions = { ...options };

  const withFallbackTargets = (call: Abortable) =>
    withFallbacks(ctx, request, options, {
      call,
      translateAbort: (error) => translateAbort(0, error) ?? error,
      primary: () => retryLoop(ctx, request, working, call, send, hooks),
      model: (model, last) => {
        const body = { ...(options.body as Record<string, unknown>), model };
        return retryLoop(ctx, { ...request, model }, { ...options, body }, call, send, { ...hooks, waitForCircuit: last });
      },
      client: async (target) => {
        const props = await sendToClient(target, options, call.signal, ctx.trafficClass);
        if (!request.stream) return props;
        streaming = true;
        ending.streamStarted();
        const ended = (error?: unknown) => {
          scope.dispose();
          ending.streamEnded(error);
        };
        return { ...props, response: relayStream(props.response, ended, () => new ctx.sdk.APIUserAbortError()) };
      },
    });
  // Without fallback targets the primary's outcome is the call's (one promise and five closures fewer per call).
  const attempts = ctx.options.fallback
    ? withFallbackTargets
    : (call: Abortable) => retryLoop(ctx, request, working, call, send, hooks).then(primaryAnswer);
  try {
    const result = policies.call
      ? await underCallPolicy(policies.call, scope, () => attempts(scope), (error) => translateAbort(0, error) ?? error)
      : await attempts(scope);
    return { ...result, props: { ...result.props, options: forCaller(working, options) } };
  } finally {
    if (streaming) scope.clearTimers();
    else scope.dispose();
  }
}

function primaryAnswer(props: ResponseProps): FallbackResult {
  return { props, fellBack: false };
}

/**
 * Sends the request through a fallback client's own pipeline (its policies, its breaker and limits). The
 * call's traffic class goes with it (the class header, which that pipeline reads and removes), unless it
 * is `default`: the fallback client's own class (a `forClass()` view's) then holds.
 */
function sendToClient(
  target: Extract<FallbackTarget, { kind: 'client' }>,
  options: SdkRequestOptions,
  signal: AbortSignal,
  trafficClass: TrafficClass,
): Promise<ResponseProps> {
  const client = target.client.client as SdkClientInternals;
  const body =
    target.model !== undefined && typeof options.body === 'object' && options.body !== null
      ? { ...(options.body as Record<string, unknown>), model: target.model }
      : options.body;
  const headers = trafficClass === 'default' ? options.headers : withTrafficClass(options.headers, trafficClass);
  return client.makeRequest({ ...options, body, signal, headers }, null, undefined);
}

const ATTEMPT_FIELDS = ['signal', 'timeout', 'maxRetries', 'headers'] as const;

/**
 * The options the SDK keeps with the response (a page derives its next-page request from them): the
 * call's working copy, with the caller's own signal, timeout, retries and headers put back, so that the
 * next page runs through the pipeline with the caller's settings.
 */
function forCaller(working: SdkRequestOptions, original: SdkRequestOptions): SdkRequestOptions {
  const options: Record<string, unknown> = { ...working };
  // `undefined` rather than `delete`, which would turn the object the SDK reads into a slow dictionary.
  for (const field of ATTEMPT_FIELDS) if (field in options || field in original) options[field] = original[field];
  return options as SdkRequestOptions;
}
