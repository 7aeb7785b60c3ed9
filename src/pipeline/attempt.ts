import type { IPolicy } from 'cockatiel';
import { classify } from '../classify/classify.js';
import { isPlainObject } from '../core/validate.js';
import { guardStream } from '../streams/stream-guard.js';
import { streamModeOf } from '../responses/event-role.js';
import { streamHooks } from './stream-hooks.js';
import { eventBase } from '../events/event-base.js';
import { AbortScope } from '../core/abort-scope.js';
import { SignalledAttempt, TimedAttempt, type AttemptAbort } from './attempt-abort.js';
import { enterGuards } from './attempt-guards.js';
import { probeDueBy } from './circuit-wait.js';
import { forMember, memberAnswered, pooledGuards, type PooledPlan } from './pooled-attempt.js';
import type { PipelineContext } from './pipeline-context.js';
import type { RequestInfo, SdkRequestOptions } from '../core/request-info.js';
import type { BodyReadHooks } from './body-reader.js';
import { sendAttempt } from './transport.js';
import { backgroundResume } from './stream-resume.js';
import { chatStreamContinuation } from './stream-continuation.js';
import type { FollowUpLink } from './follow-up-link.js';
import type { Abortable } from '../core/abort-scope.js';
import type { ResponseProps, SendOnce } from '../core/response-props.js';

/** One attempt's plan; what it shares with a pooled attempt's (`parent`, `deadlineAt`, `pool`) is in {@link PooledPlan}. */
export interface AttemptPlan extends PooledPlan {
  /** Attempt number, from 1. */
  readonly number: number;
  /**
   * True when only time can abort the call (no caller signal, no cockatiel policy, the system clock):
   * the attempt is then sent without a signal (`TimedAttempt`), unless it is hedged.
   */
  readonly timed: boolean;
  /** The attempt was ended by the call's deadline (a timed attempt reports it; a signalled one sees it). */
  readonly onDeadline: () => void;
  /** This attempt's time limit in ms, `undefined` for none. */
  readonly timeout: number | undefined;
  /** The circuit breaker key of the request, when a breaker is on. */
  readonly breakerKey: string | undefined;
  /** An open circuit's probe due by then (epoch ms) is waited for; `undefined`: refused at once. Hedges never wait. */
  readonly probeDueBy?: number | undefined;
  /**
   * Called once when a stream handed to the caller ends, however it ends (`error` says how it failed, or
   * that its caller stopped or abandoned it); possibly before the attempt has returned it.
   */
  readonly onStreamEnd: (error?: unknown) => void;
  /** 0 for the attempt itself; 1, 2... for the hedges sent alongside it. */
  readonly hedge?: number | undefined;
  /** Called once the attempt has passed the breaker, the rate limiter and the bulkhead, as it is sent. */
  readonly onSent?: (() => void) | undefined;
}

/**
 * Runs one attempt: `budgets → circuit breaker → rate limiter → bulkhead → attempt policies → attempt timeout →
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
  // Checked here, not in pooledGuards: a single client's attempt awaits nothing more.
  const pooled = ctx.shared.pool && plan.pool ? await pooledGuards(ctx, ctx.shared.pool, request, working, plan) : undefined;
  const member = pooled?.member;
  let guard = pooled?.guard ?? (await enterGuards(ctx, request, working, plan.breakerKey, plan.parent, plan.deadlineAt, plan.hedge ? undefined : plan.probeDueBy));
  if (member) working = forMember(working, request, member);
  const sendOnce = member ? member.runtime.send : send;
  plan.onSent?.();
  const { events } = ctx.shared;
  const { clock } = ctx.options;
  const sentAt = clock.now();
  const hedge = plan.hedge ?? 0;
  const memberName = member?.runtime.state.name;
  const attemptEnded = (error?: unknown) => {
    if (member) memberAnswered(member, error, clock.now() - sentAt);
    if (!events.has('attemptEnd')) return;
    const failure = error === undefined ? undefined : classify(error);
    events.emit('attemptEnd', {
      ...eventBase(ctx, request), attempt: plan.number, hedge, outcome: failure ? 'failure' : 'success', kind: failure?.kind,
      status: failure?.status, duration: clock.now() - sentAt, ...(memberName === undefined ? {} : { member: memberName }),
    });
  };
  const abort = attemptAbort(ctx, plan);
  let handedOver = false;
  // Only keys the SDK put there are written (see `setOption`); without one, the client's own `maxRetries: 0` holds.
  if ('maxRetries' in working) working.maxRetries = 0;
  if (abort.sdkTimeout !== undefined) working.timeout = abort.sdkTimeout;
  // The SDK validates a `timeout` key that is present, and writes its own into it.
  else if ('timeout' in working) delete working.timeout;
  // The SDK sends `x-stainless-retry-count: 0` itself (its retries are off); later attempts say which they are.
  if (plan.number > 1) working.headers = withRetryCount(working.headers, plan.number - 1);
  /** The stream handed over has ended: a resume's guard entered after that is given back at once. */
  let streamOver = false;
  const endStream = (error?: unknown) => {
    streamOver = true;
    abort.dispose();
    // A stream handed over holds its member (its `maxConcurrent`) until it ends, as it holds the bulkhead.
    member?.end();
    guard.ended(error);
    plan.onStreamEnd(error);
  };
  let responded = false;
  /** A stream that ended before its attempt had its response (all of it was read ahead at once). */
  let endedEarly: { error: unknown } | undefined;
  const onStreamEnd = (error?: unknown) => {
    if (responded) endStream(error);
    else endedEarly = { error };
  };
  /**
   * A background stream's resume, or a chat stream's continuation when `streaming.continuation` asks for one
   * (made when a stream arrives: what is not a stream pays nothing for it), goes to the same client, through
   * the protecting policies again (see `FollowUpLink`).
   */
  const followUp = (): FollowUpLink => ({
    send: sendOnce, working, attempt: plan.number, deadlineAt: plan.deadlineAt, timeout: plan.timeout,
    renewGuard: async (error: unknown, call: Abortable) => {
      guard.ended(error);
      // A circuit found open is waited for as a retry waits for it (until its probe, within the deadline):
      // the failure just recorded may have opened it.
      const probeBy = probeDueBy(ctx, ctx.options.clock.now(), true, true);
      const renewed = await enterGuards(ctx, request, working, member?.breakerKey ?? plan.breakerKey, call, plan.deadlineAt, probeBy, member);
      if (streamOver) {
        renewed.ended(new ctx.sdk.APIUserAbortError());
        throw new ctx.sdk.APIUserAbortError();
      }
      guard = renewed;
    },
    responded: (response) => guard.responded(response, undefined),
  });
  const recovery = () => {
    const link = followUp();
    return backgroundResume(ctx, request, working, link) ?? chatStreamContinuation(ctx, request, working, link);
  };
  const hooks = {
    onHeaders: (controller: AbortController) => abort.answered(controller),
    onResponse: (response: Response, body: unknown) => {
      guard.responded(response, body);
      // A stored response lives in its member's account: what refers to it later goes there.
      if (member && request.path === '/responses' && response.ok) ctx.shared.pool!.owners.record(body, member.runtime.state);
      responded = true;
      if (endedEarly) endStream(endedEarly.error);
    },
    answerError: (error: unknown, response: Response) => new ctx.sdk.APIError(undefined, error, undefined, response.headers),
    guardStream: (response: Response, signal: AbortSignal) =>
      guardStream(response, signal, ctx.options.streaming, streamHooks(ctx, request, response, {
        onEnd: onStreamEnd, onUsage: guard.streamUsage, streamMode: streamModeOf(working),
        // A stored response lives in its member's account: what refers to it later goes there.
        onResponseId: member && request.path === '/responses' ? (id) => ctx.shared.pool!.owners.remember(id, member.runtime.state) : undefined,
        recovery: recovery(),
      })),
    body: bodyReadHooks(ctx, request),
  };
  const sendWith = (signal: AbortSignal | undefined) => {
    setOption(working, 'signal', signal);
    return sendAttempt(sendOnce, working, hooks);
  };
  /**
   * Under a cockatiel policy, which aborts its signal as soon as the work returns (a `timeout`'s
   * `abortOnReturn`): a stream or binary body handed over must not end with it, so the request follows the
   * policy's signal only until then, and the attempt's own signal (the call's abort, its timer) after.
   */
  const sendUnder = async (policySignal: AbortSignal) => {
    const untilReturn = new AbortScope(clock, [abort.signal]);
    const unfollow = untilReturn.follow(policySignal);
    try {
      return await sendWith(untilReturn.signal);
    } finally {
      unfollow();
    }
  };
  // Emitted right before the `try` whose every way out emits `attemptEnd`: an attempt that starts always ends.
  if (events.has('attemptStart')) {
    events.emit('attemptStart', { ...eventBase(ctx, request), attempt: plan.number, hedge, ...(memberName === undefined ? {} : { member: memberName }) });
  }
  try {
    const policy: IPolicy<any, any> | undefined = ctx.options.policies.attempt;
    const props = policy
      ? await policy.execute(({ signal }: { signal: AbortSignal }) => sendUnder(signal), abort.signal)
      : await sendWith(abort.signal);
    handedOver = working.stream === true;
    if (!handedOver) guard.ended();
    attemptEnded();
    return props;
  } catch (caught) {
    let error = caught;
    // This attempt's own timer (its abort reason may arrive as the error itself, e.g. from a stream
    // whose headers came in time), or a cockatiel timeout among policies.attempt.
    if (!plan.parent.aborted && (abort.expired || classify(caught).kind === 'aborted')) {
      const limit = working.stream ? 'no stream chunk' : 'Request timed out';
      const message = plan.timeout === undefined ? undefined : `${limit} after ${plan.timeout} ms.`.replace(/^no/, 'No');
      error = Object.assign(new ctx.sdk.APIConnectionTimeoutError(message ? { message } : undefined), { cause: caught });
      if (plan.timeout !== undefined && abort.expired) {
        events.emit('timeout', { ...eventBase(ctx, request), timeout: working.stream ? 'first_chunk' : 'attempt', limit: plan.timeout });
      }
    }
    // An attempt ended by its call (the caller's abort, the deadline) says nothing of the upstream, and is
    // reported as aborted either way: a timed attempt's deadline arrives as the SDK's timeout error.
    const outcome = plan.parent.aborted ? new ctx.sdk.APIUserAbortError() : error;
    if (member && !plan.parent.aborted) plan.pool!.failed.add(member.runtime.state);
    guard.ended(outcome);
    attemptEnded(outcome);
    throw error;
  } finally {
    if (!handedOver) member?.end();
    if (handedOver) abort.clearTimers();
    else abort.dispose();
  }
}

/**
 * A timed attempt when only time can abort it; otherwise (a caller signal, a cockatiel policy, a hedge, a
 * fake clock) one with its own signal. A timed attempt's limit is its timeout or what is left of the
 * call's deadline, whichever comes first.
 */
function attemptAbort(ctx: PipelineContext, plan: AttemptPlan): AttemptAbort {
  const { clock } = ctx.options;
  const timeoutError = () => new ctx.sdk.APIConnectionTimeoutError();
  const clientTimeout = (ctx.client as { timeout?: unknown }).timeout;
  if (!plan.timed || plan.hedge !== undefined) {
    return new SignalledAttempt(clock, plan.parent.signal, plan.timeout, timeoutError, clientTimeout);
  }
  const remaining = plan.deadlineAt === undefined ? undefined : plan.deadlineAt - clock.now();
  const byDeadline = remaining !== undefined && (plan.timeout === undefined || remaining < plan.timeout);
  return new TimedAttempt(clock, byDeadline ? remaining : plan.timeout, timeoutError, () => {
    if (byDeadline) plan.onDeadline();
  }, clientTimeout);
}

/**
 * How an answer's body is read: `timeout.idle` bounds its silences too (a body whose headers came but
 * whose bytes never do), a stall is the SDK's `APIConnectionTimeoutError` (retried as `timeout`) and a
 * connection lost mid-body its `APIConnectionError` (retried as `connection`), as for a stream.
 */
function bodyReadHooks(ctx: PipelineContext, request: RequestInfo): BodyReadHooks {
  return {
    clock: ctx.options.clock,
    idle: ctx.options.streaming.idle,
    stalled: (idle) => {
      ctx.shared.events.emit('timeout', { ...eventBase(ctx, request), timeout: 'idle', limit: idle });
      return new ctx.sdk.APIConnectionTimeoutError({ message: `No data for ${idle} ms while reading the response body.` });
    },
    lost: (cause) => new ctx.sdk.APIConnectionError({ message: 'Connection lost while reading the response body.', cause: cause as Error }),
  };
}

/**
 * Sets `key` on the SDK's request options unless that would add a key only to say `undefined`. Options
 * of another shape than the SDK's own make the SDK's code that reads them polymorphic, which costs a few
 * µs per call once the SDK also serves another client or endpoint (`npm run bench overhead`).
 */
function setOption(options: SdkRequestOptions, key: keyof SdkRequestOptions, value: unknown): void {
  if (value !== undefined || key in options) (options as Record<string, unknown>)[key] = value;
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
