/**
 * openai-resilient: `resilient(new OpenAI())` runs every request through retry and timeout policies and
 * maps every SDK error to a recovery action. Everything public is named here; the rest of `src/` is private.
 */
export { resilient, type ResilientClient, type OpenAIClientLike } from './client/resilient.js';
export type { Resilience, ResilienceStats, RateLimitView, RateLimitPacing, MemberStats } from './client/resilience.js';
export type { MemberCounts } from './pool/member-state.js';
export type { CallStatsSnapshot, LatencySnapshot, TokenUsage } from './stats/call-stats.js';
export type { BudgetLimitStats, BudgetCounterStats, BudgetModelStats } from './budgets/budget-stats.js';
export type {
  ResilienceOptions,
  RetryOptions,
  RetryBudgetOptions,
  TimeoutOptions,
  CircuitBreakerOptions,
  BreakerKeyInput,
  BulkheadOptions,
  RateLimitOptions,
  RateLimits,
  PolicyOptions,
  RetryBackoffContext,
  FallbackOptions,
  FlexOptions,
  BudgetOptions,
  BudgetLimit,
  BudgetWindow,
  ModelPrice,
  FallbackClient,
  FallbackRequest,
  FallbackValue,
  CacheOptions,
  HedgeOptions,
  StreamingOptions,
  PoolMember,
  PoolOptions,
  PoolRouting,
} from './client/options.js';
export type { TokensOptions } from './tokens/tokens-options.js';
export type { Tokenizer } from './tokens/tokenizer.js';
export type { TokenizerEncoding } from './tokens/encodings.js';
export { defaultCacheable, type CacheableRequest } from './cache/cacheable.js';
export { MemoryCacheStore, type CacheStore, type CachedResponse } from './cache/cache-store.js';
export { noCache, CACHE_CONTROL_HEADER } from './cache/with-cache.js';
export { TRAFFIC_CLASSES, type TrafficClass } from './core/traffic-class.js';
export type { BulkheadClassStats, QueueClassStats } from './policies/class-counters.js';
export { TRAFFIC_CLASS_HEADER } from './core/traffic-class-header.js';
export { fallbackFailuresOf, type FallbackFailure } from './fallback/fallback-errors.js';
export type { CircuitState, CircuitSnapshot } from './policies/circuit-breaker/circuit.js';
export type { RateLimitClassOptions } from './policies/rate-limit/rate-limit-options.js';
export type { BreakerState } from './policies/circuit-breaker/circuit-breakers.js';

export { classify, type Classification, type ClassifyOptions } from './classify/classify.js';
export {
  DEFAULT_ACTIONS,
  ERROR_KINDS,
  type ErrorKind,
  type UpstreamErrorKind,
  type LibraryErrorKind,
  type RecoveryAction,
} from './errors/error-kind.js';
export { parseDuration, readRetryHint, type RetryHint, type HeadersLike } from './classify/retry-hint.js';

export { ResilienceError, isResilienceError } from './errors/resilience-error.js';
export { DeadlineExceededError } from './errors/deadline-exceeded-error.js';
export { MalformedResponseError } from './errors/malformed-response-error.js';
export { CircuitOpenError } from './errors/circuit-open-error.js';
export { BulkheadFullError, BulkheadTimeoutError } from './errors/bulkhead-errors.js';
export { LoadShedError, type LoadShedQueue } from './errors/load-shed-error.js';
export { RateLimitTimeoutError } from './errors/rate-limit-timeout-error.js';
export { ContextWindowExceededError } from './errors/context-window-exceeded-error.js';
export { BudgetExceededError, isBudgetExceededError, type BudgetExceededDetails } from './errors/budget-exceeded-error.js';
export { ResponseCancelledError, StreamAbandonedError, StreamIdleTimeoutError, StreamTruncatedError } from './errors/stream-errors.js';
export { partialOutputOf, type PartialOutput, type PartialChoice, type PartialToolCall } from './streams/partial-output.js';
export type { ContinuationBuilder, ContinuationOption, ContinuationStrategy } from './streams/continuation/continuation-options.js';
export type { ContinuationRefusal } from './events/event-map.js';

export { ExponentialJitterBackoff, OVERLOADED_BACKOFF_FACTOR, type ExponentialJitterOptions } from './policies/retry/backoff.js';
export type {
  ResilienceEvents,
  ResilienceEventName,
  ResilienceListener,
  RequestEventBase,
  CallStartEvent,
  CallEndEvent,
  AttemptStartEvent,
  AttemptEndEvent,
  TimeoutEvent,
  RetryEvent,
  GiveUpEvent,
  GiveUpReason,
  BudgetExhaustedEvent,
  BudgetEventBase,
  BudgetThresholdEvent,
  BudgetExceededEvent,
  BudgetSettledEvent,
  FallbackEvent,
  HedgeEvent,
  CacheHitEvent,
  CacheMissEvent,
  CircuitOpenEvent,
  CircuitHalfOpenEvent,
  CircuitCloseEvent,
  BulkheadRejectEvent,
  RateLimitWaitEvent,
  RateLimitRejectEvent,
  StreamStallEvent,
  StreamTruncatedEvent,
  StreamResumeEvent,
  StreamContinuedEvent,
  StreamNotContinuedEvent,
  StreamAbandonedEvent,
  SharedStateDownEvent,
  SharedStateUpEvent,
  CacheStoreErrorEvent,
  ListenerErrorEvent,
} from './events/event-map.js';
export type { SharedBackend, SharedBudget, SharedCircuitAnswer, SharedPause, SharedRateAnswer, SharedPlaces, SharedMarks, SharedAnswer, LearnedLimits, SharedUsageCharge, SharedUsageAnswer, SharedUsageWindow } from './shared/shared-backend.js';
export type { SharedStats } from './shared/shared-link.js';
export { systemClock, type Clock } from './core/clock.js';
export type { ResilienceLogger, LogLevel } from './events/logging.js';
export { redact } from './events/redact.js';
