import type { SdkErrors } from '../core/sdk-internals.js';
import type { TrafficClass } from '../core/traffic-class.js';
import type { EventBus } from '../events/event-bus.js';
import type { Bulkhead } from '../policies/bulkhead/bulkhead.js';
import type { CircuitBreakers } from '../policies/circuit-breaker/circuit-breakers.js';
import type { ClassCounters } from '../policies/class-counters.js';
import type { RateLimiter } from '../policies/rate-limit/rate-limiter.js';
import type { RetryBudget } from '../policies/retry/retry-budget.js';
import type { StatsCollector } from '../stats/stats-collector.js';
import type { ResponseCache } from '../cache/response-cache.js';
import type { SharedLink } from '../shared/shared-link.js';
import type { Hedger } from '../policies/hedge/hedger.js';
import type { PoolState } from './pool-state.js';
import type { TokenCounter } from '../tokens/token-counter.js';
import type { BudgetGate } from '../budgets/budget-gate.js';
import type { ResolvedOptions } from './resolved-options.js';

/**
 * State shared by a resilient client and every client derived from it (`withOptions()`,
 * `resilience.forTenant()`): events and the protecting policies.
 */
export interface SharedState {
  readonly events: EventBus;
  /** The connection to state shared by processes (`shared` option), if any. */
  readonly link: SharedLink | undefined;
  readonly breakers: CircuitBreakers | undefined;
  readonly bulkhead: Bulkhead | undefined;
  readonly rateLimiter: RateLimiter | undefined;
  /** The rate limiters' queues counted by traffic class (one for a pool's members and the client). */
  readonly rateLimitClasses: ClassCounters | undefined;
  readonly budget: RetryBudget | undefined;
  /** Token and spend limits (`budgets` option), when on. */
  readonly budgets: BudgetGate | undefined;
  /** Counts a request's tokens before it is sent (rate limiter, context pre-flight, budgets). */
  readonly tokens: TokenCounter;
  /** Decides hedges (`hedge` option), when on. */
  readonly hedger: Hedger | undefined;
  readonly stats: StatsCollector;
  readonly cache: ResponseCache | undefined;
  /** The members a pooled client (`resilient([...members])`) spreads its calls over; `undefined` for one client. */
  readonly pool: PoolState | undefined;
}

/** Everything one call needs: the view's options and tenant, the shared state, and the SDK's error classes. */
export interface PipelineContext {
  readonly options: ResolvedOptions;
  readonly shared: SharedState;
  readonly sdk: SdkErrors;
  readonly tenant: string | undefined;
  /** The call's traffic class: `default` unless a view or the request declares another (issue 26). */
  readonly trafficClass: TrafficClass;
  readonly baseURL: string;
  /** The client view this call was made on (its API key, organization and project scope the cache). */
  readonly client: unknown;
}
