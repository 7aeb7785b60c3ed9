import type { ErrorKind } from '../errors/error-kind.js';
import type { RetryHint } from '../classify/retry-hint.js';
import type { TrafficClass } from '../core/traffic-class.js';
import type { BudgetExceededEvent, BudgetSettledEvent, BudgetThresholdEvent } from './budget-events.js';

import type { RequestEventBase } from './request-event-base.js';

export type { RequestEventBase } from './request-event-base.js';
export type { BudgetEventBase, BudgetExceededEvent, BudgetSettledEvent, BudgetThresholdEvent } from './budget-events.js';


/** A call begins (before the cache, the deadline and any attempt). */
export interface CallStartEvent extends RequestEventBase {
  readonly stream: boolean;
}

/**
 * A call ends: its answer reached the caller, or its error did. A stream's call ends with its stream:
 * read to its terminal event (a success), failed after its first chunk (a failure of that kind), or
 * stopped or abandoned by its caller (`aborted`).
 */
export interface CallEndEvent extends RequestEventBase {
  readonly outcome: 'success' | 'failure';
  /** The kind of the error the caller received, for a failure. */
  readonly kind: ErrorKind | undefined;
  readonly error: unknown;
  /** Milliseconds from the call to its answer (for a stream, to its end). */
  readonly duration: number;
  readonly stream: boolean;
  /** The model the answer came from (a fallback may answer for another). */
  readonly responseModel: string | undefined;
  /** Token usage of the answer (for a stream, what its end reported), when it reported one. */
  readonly usage: { readonly inputTokens: number; readonly outputTokens: number; readonly totalTokens: number } | undefined;
}

/** An attempt is sent (after the breaker, rate limiter and bulkhead let it through). */
export interface AttemptStartEvent extends RequestEventBase {
  /** From 1. */
  readonly attempt: number;
  /** 0 for the attempt itself, 1, 2... for hedges sent alongside it (`hedge` option). */
  readonly hedge: number;
  /** The pool member the attempt went to (`resilient([...members])`); absent for a single client. */
  readonly member?: string;
}

/** An attempt ended: a response (for a stream, its first chunk), or a failure. */
export interface AttemptEndEvent extends RequestEventBase {
  readonly attempt: number;
  /** 0 for the attempt itself, 1, 2... for hedges; a hedge that lost the race ends as `aborted`. */
  readonly hedge: number;
  readonly outcome: 'success' | 'failure';
  readonly kind: ErrorKind | undefined;
  readonly status: number | undefined;
  readonly duration: number;
  /** The pool member the attempt went to; absent for a single client. */
  readonly member?: string;
}

/** A time limit ran out: an attempt's, a stream's first chunk or idle gap, or the call's total. */
export interface TimeoutEvent extends RequestEventBase {
  readonly timeout: 'attempt' | 'first_chunk' | 'idle' | 'total';
  /** The limit, in milliseconds. */
  readonly limit: number;
}

/** A failed attempt will be retried after `delay` ms. Fired before the wait. */
export interface RetryEvent extends RequestEventBase {
  /** The attempt that failed, from 1. The next request is attempt `attempt + 1`. */
  readonly attempt: number;
  /** How long the call waits before the next attempt, in milliseconds. */
  readonly delay: number;
  /**
   * Where the delay came from: a server header, the backoff, fresh credentials after a 401, or the
   * circuit breaker (`'circuit'`: the retry waits for the open circuit's next probe, and goes as that probe),
   * or another pool member (`'member'`: it can take the retry now, so the retry goes at once), or the
   * service tier (`'service_tier'`: flex refused the request, which goes again at once at its usual tier),
   * or `'stream_options'`: the server refused the usage the budgets asked for a chat stream, and the
   * request goes again at once as its caller made it.
   */
  readonly delaySource: RetryHint['source'] | 'backoff' | 'credentials' | 'circuit' | 'member' | 'service_tier' | 'stream_options';
  readonly kind: ErrorKind;
  /** HTTP status of the failure, if the server answered. */
  readonly status: number | undefined;
  readonly error: unknown;
  /** The pool member the failed attempt went to; absent for a single client. */
  readonly member?: string;
}

/** Why a call stopped retrying (the `reason` of a `giveUp` event). */
export type GiveUpReason =
  /** The error's kind maps to `fail` (or the server sent `x-should-retry: false`). */
  | 'not_retryable'
  /** `maxRetries` retries were made. */
  | 'retries_exhausted'
  /** The server asked for a wait longer than `retry.maxRetryAfter`. */
  | 'retry_after_exceeds_max'
  /** The wait before the next attempt would not fit in what is left of `timeout.total`. */
  | 'deadline'
  /** The request body was a stream that cannot be sent twice. */
  | 'non_replayable_body'
  /** The caller aborted. */
  | 'aborted'
  /** The client-wide retry budget was spent. */
  | 'budget_exhausted'
  /** The circuit for the request's key is open: a retry would be refused. */
  | 'circuit_open';

/**
 * Recovery gave up on a target (the primary request, or a fallback model): its error goes to the caller,
 * or on to the next fallback step. Without fallback, fired once per failed call.
 */
export interface GiveUpEvent extends RequestEventBase {
  /** Attempts made, from 1. */
  readonly attempt: number;
  readonly kind: ErrorKind;
  readonly reason: GiveUpReason;
  /** The wait that was refused, for `retry_after_exceeds_max` and `deadline`. */
  readonly delay: number | undefined;
  readonly status: number | undefined;
  /** The error the caller receives. */
  readonly error: unknown;
}

/** The retry budget was spent: a failure that would have been retried went to the caller at once. */
export interface BudgetExhaustedEvent extends RequestEventBase {
  readonly attempt: number;
  readonly kind: ErrorKind;
  readonly error: unknown;
}

/** The primary's recovery gave up: the call moves on to a fallback step. */
export interface FallbackEvent extends RequestEventBase {
  /** The step, from 1. */
  readonly step: number;
  /** The primary's model. */
  readonly from: string | undefined;
  /**
   * Where this step goes: the model it asks for (a `model` step, or the model a `client` step sends,
   * the primary's when the client keeps it); `'client N'` for a client step of a request without a
   * model; `'fallback-value'` for the last-resort value (the source its response says).
   */
  readonly to: string;
  /** The index in `fallback.clients`, for a client step. */
  readonly client: number | undefined;
  readonly target: 'model' | 'client' | 'value';
  /** The kind of the primary's failure. */
  readonly reason: ErrorKind;
  /** The primary's error. */
  readonly error: unknown;
}

/** An attempt went unanswered for `delay` ms: hedge number `hedge` is sent alongside it (`hedge` option). */
export interface HedgeEvent extends RequestEventBase {
  /** The attempt being hedged, from 1. */
  readonly attempt: number;
  /** 1 for the first hedge of that attempt, 2 for the second... */
  readonly hedge: number;
  /** Milliseconds since the attempt was sent. */
  readonly delay: number;
}

/** A cached response answered the call (no request was sent). */
export interface CacheHitEvent extends RequestEventBase {
  /** The cache key (a SHA-256 fingerprint of the request and its scope). */
  readonly key: string;
  /** True when an expired entry answered because the call failed (`staleIfError`). */
  readonly stale: boolean;
  /** True when the answer came from an identical call that was in flight (single-flight). */
  readonly shared: boolean;
  /** How old the entry is, in milliseconds. */
  readonly age: number;
}

/** A cacheable call found no fresh entry and goes upstream (or joins an identical call in flight). */
export interface CacheMissEvent extends RequestEventBase {
  readonly key: string;
}

/** A circuit opened: calls for `key` fail fast until `retryAt`. */
export interface CircuitOpenEvent {
  readonly key: string;
  /**
   * Why: failures counted here, a failed probe, `restoreState()`, or `shared` (another process opened it,
   * seen through the shared state).
   */
  readonly reason: 'consecutive_failures' | 'failure_ratio' | 'probe_failed' | 'restored' | 'shared';
  /** When the next probe may go through (epoch ms). */
  readonly retryAt: number;
  /** Milliseconds until then. */
  readonly retryAfter: number;
  /** The failure that opened it. */
  readonly error: unknown;
}

/** A circuit's pause is over: the next call for `key` is a probe. */
export interface CircuitHalfOpenEvent {
  readonly key: string;
}

/** A probe succeeded: calls for `key` flow again. */
export interface CircuitCloseEvent {
  readonly key: string;
}

/**
 * The bulkhead turned a call away: its queue was full of same-or-higher classes, its wait ran out, or
 * (`shed`) it was waiting and gave way to a higher-class call arriving at the full queue (`LoadShedError`).
 */
export interface BulkheadRejectEvent {
  readonly tenant: string | undefined;
  /** The class of the call turned away. */
  readonly trafficClass: TrafficClass;
  readonly reason: 'queue_full' | 'queue_timeout' | 'shed';
  readonly active: number;
  readonly queued: number;
}

/** A call waits for client-side rate-limit capacity. */
export interface RateLimitWaitEvent {
  readonly model: string;
  readonly tenant: string | undefined;
  /**
   * How long it waits as things stand, in milliseconds: at most that, as capacity that comes early (a
   * burst widening as the server's answers confirm it, a reservation given back) ends it sooner.
   */
  readonly delay: number;
  /** What it waits for: a pause after a 429, request or token capacity, or its tenant's share. */
  readonly reason: 'paused' | 'requests' | 'tokens' | 'tenant';
  /** The class of the waiting call. */
  readonly trafficClass: TrafficClass;
}

/**
 * The rate limiter turned a call away: its queue for the model was full (`queue_full`,
 * `rateLimit.maxQueued`), the capacity would come after the call's deadline (`deadline`), or it was a
 * waiter of a lower class that gave way to a higher-class newcomer at a full queue (`shed`, `LoadShedError`).
 */
export interface RateLimitRejectEvent {
  readonly model: string;
  readonly tenant: string | undefined;
  readonly trafficClass: TrafficClass;
  readonly reason: 'queue_full' | 'deadline' | 'shed';
}

/** A stream went silent past `timeout.idle`: its connection was aborted. */
export interface StreamStallEvent extends RequestEventBase {
  /** Events delivered before it stalled. */
  readonly chunks: number;
  readonly idle: number;
}

/**
 * A background Responses stream (`background: true`) failed mid-stream and is being resumed from its last
 * event (`GET /responses/{id}?stream=true&starting_after=`): fired as the resume is sent.
 */
export interface StreamResumeEvent extends RequestEventBase {
  /** The response being resumed. */
  readonly responseId: string;
  /** The sequence number of the last event the caller received: the resume starts after it. */
  readonly after: number;
  /** 1 for the stream's first resume, 2 for its second... */
  readonly resume: number;
  /** How the upstream failed: its connection was reset, it ended early, it stalled, or it sent an `error` event. */
  readonly failure: 'reset' | 'truncated' | 'stall' | 'error_event';
}

/**
 * A Chat Completions stream failed mid-answer and is continued (`streaming.continuation`): the continuation
 * request answered, and its chunks follow the `chunks` the caller received (the seam). Fired before the
 * continuation's first chunk reaches the caller.
 */
export interface StreamContinuedEvent extends RequestEventBase {
  /** Chunks the caller had received before the seam. */
  readonly chunks: number;
  /** Completion tokens received before the seam: the usage's if it came, else estimated (one a chunk after the first). */
  readonly deliveredTokens: number;
  /** The `streaming.continuation` strategy; `'custom'` for a function of yours. */
  readonly strategy: 'prefix' | 'continue_final_message' | 'prefill' | 'instruction' | 'custom';
  /** How the upstream failed: its connection was reset, it ended early, it stalled, or it sent an `error` event. */
  readonly failure: 'reset' | 'truncated' | 'stall' | 'error_event';
  /** 1 for the stream's first continuation, 2 for a continuation of a continuation. */
  readonly continuation: number;
}

/**
 * Why a failed chat stream is not continued (its error, carrying the partial output, reaches the caller):
 * - `not_chat`: not a Chat Completions stream (Responses, legacy Completions), or nothing was assembled;
 * - `choices`: several choices (`n > 1`): a continuation has one, and cannot resume each where it stopped;
 * - `logprobs`: the caller asked for `logprobs`: the spliced tokens' would be conditioned on a re-sent
 *   prompt, not on the model's own sampling;
 * - `tool_call`: a tool call had begun: its arguments cannot be resumed mid-JSON, and a new call would
 *   get a new id;
 * - `refusal`: the model was refusing: a refusal is not continued as an answer;
 * - `structured_output`: `response_format` `json_object` / `json_schema`: constrained decoding restarts
 *   its grammar at a new message, so the rest would not complete the JSON received;
 * - `audio`: audio output (`modalities` with `audio`): its audio chunks cannot be resumed;
 * - `finished`: the choice had finished (its `finish_reason` arrived): there is nothing left to write;
 * - `length`: what was received used up `max_completion_tokens` / `max_tokens`.
 */
export type ContinuationRefusal =
  | 'not_chat'
  | 'choices'
  | 'logprobs'
  | 'tool_call'
  | 'refusal'
  | 'structured_output'
  | 'audio'
  | 'finished'
  | 'length';

/**
 * A Chat Completions stream with `streaming.continuation` on failed mid-answer and is not continued: it ends
 * with its error, which carries the partial output. `reason`: where a continuation could not be faithful
 * (`tool_call`, `choices` for `n > 1`, `logprobs`, `refusal`, `structured_output`, `audio`, `finished`,
 * `length`, `not_chat`), `limit` (continued twice already), `declined` (your function returned
 * `undefined`), or `failed` (the continuation request failed: `error`).
 */
export interface StreamNotContinuedEvent extends RequestEventBase {
  readonly chunks: number;
  readonly reason: ContinuationRefusal | 'limit' | 'declined' | 'failed';
  /** Why the continuation request failed, for `failed`. */
  readonly error: unknown;
}

/** A stream ended without its terminal event. */
export interface StreamTruncatedEvent extends RequestEventBase {
  readonly chunks: number;
}

/**
 * A stream was abandoned before its end: nothing moved on it for `timeout.idle` while its caller was not
 * reading (`unread`), or it was garbage-collected (`collected`). Its connection was closed and what it
 * held released.
 */
export interface StreamAbandonedEvent extends RequestEventBase {
  /** Events received before it was abandoned. */
  readonly chunks: number;
  readonly reason: 'unread' | 'collected';
}

/** The shared state (`shared` option) stopped answering: decisions are taken on this process's state. */
export interface SharedStateDownEvent {
  /** The backend's name, e.g. `"redis"`. */
  readonly backend: string;
  /** The operation that failed, or `connection` for an error the client reported. */
  readonly operation: string;
  readonly error: unknown;
}

/** The shared state answers again and is used from now on. */
export interface SharedStateUpEvent {
  readonly backend: string;
  /** How long it was unavailable, in milliseconds. */
  readonly downFor: number;
}

/** The cache store failed to read or write an entry: the call went on as a miss (or without storing). */
export interface CacheStoreErrorEvent {
  readonly operation: 'get' | 'set';
  readonly error: unknown;
}

/** A listener threw, or returned a promise that rejected. The call it observed was not affected. */
export interface ListenerErrorEvent {
  readonly event: string;
  readonly error: unknown;
}

/** Every event `ai.resilience.on()` accepts, with its payload. */
export interface ResilienceEvents {
  callStart: CallStartEvent;
  callEnd: CallEndEvent;
  attemptStart: AttemptStartEvent;
  attemptEnd: AttemptEndEvent;
  timeout: TimeoutEvent;
  retry: RetryEvent;
  giveUp: GiveUpEvent;
  budgetExhausted: BudgetExhaustedEvent;
  budgetThreshold: BudgetThresholdEvent;
  budgetExceeded: BudgetExceededEvent;
  budgetSettled: BudgetSettledEvent;
  fallback: FallbackEvent;
  hedge: HedgeEvent;
  cacheHit: CacheHitEvent;
  cacheMiss: CacheMissEvent;
  circuitOpen: CircuitOpenEvent;
  circuitHalfOpen: CircuitHalfOpenEvent;
  circuitClose: CircuitCloseEvent;
  bulkheadReject: BulkheadRejectEvent;
  rateLimitWait: RateLimitWaitEvent;
  rateLimitReject: RateLimitRejectEvent;
  streamStall: StreamStallEvent;
  streamTruncated: StreamTruncatedEvent;
  streamResume: StreamResumeEvent;
  streamContinued: StreamContinuedEvent;
  streamNotContinued: StreamNotContinuedEvent;
  streamAbandoned: StreamAbandonedEvent;
  sharedStateDown: SharedStateDownEvent;
  sharedStateUp: SharedStateUpEvent;
  cacheStoreError: CacheStoreErrorEvent;
  listenerError: ListenerErrorEvent;
}

export type ResilienceEventName = keyof ResilienceEvents;
/** A listener of event `E`. It may be `async`: a rejection it returns is reported like a throw (`listenerError`). */
export type ResilienceListener<E extends ResilienceEventName> = (payload: ResilienceEvents[E]) => void;
