import type { IPolicy } from 'cockatiel';
import { classify } from '../classify/classify.js';
import { AbortScope } from '../internal/abort-scope.js';
import { MAX_TIMER_DELAY } from '../internal/clock.js';
import { isPlainObject } from '../internal/validate.js';
import { guardStream } from '../streams/stream-guard.js';
import { streamHooks } from '../streams/stream-hooks.js';
import { eventBase } from '../events/event-base.js';
import { enterGuards } from './attempt-guards.js';
import type { PipelineContext } from './pipeline-context.js';
import type { RequestInfo, SdkRequestOptions } from './request-info.js';
import { sendAttempt, type ResponseProps, type SendOnce } from './transport.js';

export interface AttemptPlan {
  /** Attempt number, from 1. */
  readonly number: number;
  /** The call's signal: the caller's abort and the total deadline. */
  readonly signal: AbortSignal;
  /** This attempt's time limit in ms, `undefined` for none. */
  readonly timeout: number | undefined;
  /** The call's deadline (epoch ms, on the pipeline's clock), `undefined` for none. */
  readonly deadlineAt: number | undefined;
  /** The circuit breaker key of the request, when a breaker is on. */
  readonly breakerKey: string | undefined;
  /** Called once when a stream handed to the caller ends, however it ends. */
  readonly onStreamEnd: () => void;
  /** 0 for the attempt itself; 1, 2... for the hedges sent alongside it. */
  readonly hedge?: number | undefined;
}

/**
 * Runs one attempt: `circuit breaker → rate limiter → bulkhead → attempt policies → attempt timeout →
 * request`. `working` is the call's own copy of the request options; like the SDK's own retries, every
 * attempt sends that same object (the SDK finalises multipart bodies on it once), with this attempt's
 * signal, timeout and retry-count header.
 *
 * Any abort that did not come from the call's signal (this attempt's timer, or a cockatiel timeout among
 * `policies.attempt`) becomes the SDK's `APIConnectionTimeoutError`, so it is classified and retried as a
 * timeout rather than reported as the caller's abort.
 */
export async function runAttempt(
  ctx: PipelineContext,
  request: RequestInfo,
  working: SdkRequestOptions,
  plan: AttemptPlan,
  send: SendOnce,
): Promise<ResponseProps> {
  const guard = await enterGuards(ctx, request, working, plan.breakerKey, plan.signal, plan.deadlineAt);
  const { events } = ctx.shared;
  const { clock } = ctx.options;
  const sentAt = clock.now();
  const base = eventBase(ctx, request);
  const hedge = plan.hedge ?? 0;
  if (events.has('attemptStart')) events.emit('attemptStart', { ...base, attempt: plan.number, hedge });
  const attemptEnded = (error?: unknown) => {
    if (!events.has('attemptEnd')) return;
    const failure = error === undefined ? undefined : classify(error);
    events.emit('attemptEnd', {
      ...base, attempt: plan.number, hedge, outcome: failure ? 'failure' : 'success', kind: failure?.kind,
      status: failure?.status, duration: clock.now() - sentAt,
    });
  };
  const scope = new AbortScope(ctx.options.clock, [plan.signal]);
  if (plan.timeout !== undefined) {
    scope.abortAfter(plan.timeout, () => new ctx.sdk.APIConnectionTimeoutError());
  }
  let handedOver = false;
  working.maxRetries = 0;
  // Our timer bounds the attempt; the SDK's own must never fire first.
  working.timeout = MAX_TIMER_DELAY;
  // The SDK sends `x-stainless-retry-count: 0` itself (its retries are off); later attempts say which they are.
  if (plan.number > 1) working.headers = withRetryCount(working.headers, plan.number - 1);
  const onStreamEnd = (error?: unknown) => {
    scope.dispose();
    guard.ended(error);
    plan.onStreamEnd();
  };
  const hooks = {
    onResponse: guard.responded,
    guardStream: (response: Response, signal: AbortSignal) =>
      guardStream(response, signal, ctx.options.streaming, streamHooks(ctx, request, response, onStreamEnd)),
  };
  const sendWith = (signal: AbortSignal) => {
    working.signal = signal;
    return sendAttempt(send, working, hooks);
  };
  try {
    const policy: IPolicy<any, any> | undefined = ctx.options.policies.attempt;
    const props = policy
      ? await policy.execute(({ signal }: { signal: AbortSignal }) => sendWith(signal), scope.signal)
      : await sendWith(scope.signal);
    handedOver = working.stream === true;
    if (!handedOver) guard.ended();
    attemptEnded();
    return props;
  } catch (caught) {
    let error = caught;
    // This attempt's own timer (its abort reason may arrive as the error itself, e.g. from a stream
    // whose headers came in time), or a cockatiel timeout among policies.attempt.
    if (!plan.signal.aborted && (scope.signal.aborted || classify(caught).kind === 'aborted')) {
      const limit = working.stream ? 'no stream chunk' : 'Request timed out';
      const message = plan.timeout === undefined ? undefined : `${limit} after ${plan.timeout} ms.`.replace(/^no/, 'No');
      error = Object.assign(new ctx.sdk.APIConnectionTimeoutError(message ? { message } : undefined), { cause: caught });
      if (plan.timeout !== undefined && scope.signal.aborted) {
        events.emit('timeout', { ...base, timeout: working.stream ? 'first_chunk' : 'attempt', limit: plan.timeout });
      }
    }
    guard.ended(error);
    attemptEnded(error);
    throw error;
  } finally {
    if (handedOver) scope.clearTimers();
    else scope.dispose();
  }
}

const RETRY_COUNT_HEADER = 'x-stainless-retry-count';

/** Sets the SDK's retry-count header to this attempt's number, as the SDK's own retries do. */
function withRetryCount(headers: unknown, retryCount: number): unknown {
  const value = String(retryCount);
  if (headers === undefined || headers === null) return { [RETRY_COUNT_HEADER]: value };
  if (headers instanceof Headers) {
    const copy = new Headers(headers);
    copy.set(RETRY_COUNT_HEADER, value);
    return copy;
  }
  if (Array.isArray(headers)) return [...headers, [RETRY_COUNT_HEADER, value]];
  if (isPlainObject(headers)) return { ...headers, [RETRY_COUNT_HEADER]: value };
  return headers;
}
