import type { SharedStats } from '../shared/shared-link.js';
import type { ResilienceEventName, ResilienceListener } from '../events/event-map.js';
import type { CircuitState } from '../policies/circuit-breaker/circuit.js';
import type { BreakerState } from '../policies/circuit-breaker/circuit-breakers.js';
import type { SharedState } from '../pipeline/pipeline-context.js';
import type { CallStatsSnapshot } from '../stats/call-stats.js';
import type { BudgetLimitStats } from '../budgets/budget-stats.js';
import type { MemberCounts } from '../pool/member-state.js';
import type { TrafficClass } from '../core/traffic-class.js';
import { trafficClassOption } from '../core/traffic-class-option.js';
import { ClassCounters, type BulkheadClassStats, type QueueClassStats } from '../policies/class-counters.js';

/** A snapshot of what the client has done since it was created (see `resilience.stats()`). */
export interface ResilienceStats {
  /** When counting started (epoch ms, on the pipeline's clock). */
  readonly since: number;
  /** Every call of this client and its views. */
  readonly total: CallStatsSnapshot;
  /** Per model, with the rate limits in force for it (configured or learned). */
  readonly models: Readonly<Record<string, CallStatsSnapshot & { readonly rateLimit: RateLimitView }>>;
  /** Per endpoint: `METHOD /path/template` (ids folded into `{id}`). */
  readonly endpoints: Readonly<Record<string, CallStatsSnapshot>>;
  /** Per tenant (calls made through `forTenant()` views). */
  readonly tenants: Readonly<Record<string, CallStatsSnapshot>>;
  /** Per traffic class (`resilience.forClass()`, the class header): always the three, `default` included. */
  readonly classes: Readonly<Record<TrafficClass, CallStatsSnapshot>>;
  /** Circuit state by breaker key. */
  readonly circuits: Readonly<Record<string, CircuitState>>;
  /**
   * Requests in flight and calls waiting for a bulkhead slot, and per traffic class (`interactive`,
   * `default`, `background`) the slots granted, calls waiting, shed and rejected, and the time waited for a slot.
   */
  readonly bulkhead: {
    readonly active: number;
    readonly queued: number;
    readonly classes: Readonly<Record<TrafficClass, BulkheadClassStats>>;
  };
  /**
   * The rate limiter's queues (every pool member's together), per traffic class: calls given capacity,
   * waiting now, shed, refused (`RateLimitTimeoutError`), and the time from asking to getting capacity.
   */
  readonly rateLimit: { readonly classes: Readonly<Record<TrafficClass, QueueClassStats>> };
  /** Cacheable calls in flight, and identical calls waiting for them (zeros without a cache). */
  readonly singleFlight: { readonly inFlight: number; readonly waiting: number };
  /** The state shared by processes (`shared` option): whether it answers, and how often it did not. */
  readonly shared: SharedStats | undefined;
  /**
   * Per budget limit (`budgets` option), by its name: each tenant's usage in the window against its limit,
   * its refusals, and its models' parts (see `BudgetLimitStats`); `{}` without budgets.
   */
  readonly budgets: Readonly<Record<string, BudgetLimitStats>>;
  /** Per pool member (`resilient([...members])`), by name; absent for a single client. */
  readonly members?: Readonly<Record<string, MemberStats>>;
}

/** One pool member in `stats().members`. */
export interface MemberStats extends MemberCounts {
  /** Its circuits, by breaker key without the member's name (`gpt-4.1` for `eastus/gpt-4.1`). */
  readonly circuits: Readonly<Record<string, CircuitState>>;
  /** Its own rate limits (configured, or learned from its headers), per model it has been called for. */
  readonly rateLimits: Readonly<Record<string, RateLimitView>>;
  /** Moving average of its answers' latency in ms, once one came. */
  readonly latency: number | undefined;
}

/**
 * A model's rate limits as the limiter knows them (configured, or learned from `x-ratelimit-limit-*`),
 * the headroom the server last reported (`x-ratelimit-remaining-*`), `pausedUntil` while it waits
 * out a 429, and how each limit is paced.
 */
export interface RateLimitView {
  readonly requestsPerMinute?: number;
  readonly tokensPerMinute?: number;
  readonly remainingRequests?: number;
  readonly remainingTokens?: number;
  readonly pausedUntil?: number;
  /**
   * Per limit: `configured` until the server says what is left (one second's requests, a minute's tokens
   * at once), `server` once its `x-ratelimit-remaining-*` decides (bursts widen as answers confirm them),
   * `fine` after a 429 despite headroom (paced below the limit, in small bursts). See docs/policies.md.
   */
  readonly pacing?: { readonly requests?: RateLimitPacing; readonly tokens?: RateLimitPacing };
}

/** How a rate limit is paced (see {@link RateLimitView.pacing}). */
export type RateLimitPacing = 'configured' | 'server' | 'fine';

/** The `resilience` property of a resilient client: what the policies are doing, and hooks into it. */
export interface Resilience<Client = unknown> {
  /**
   * Listens to an event; returns a function that stops listening. Listeners run synchronously (an `async`
   * listener is started, not awaited). One that throws or returns a rejected promise never affects the
   * call and never becomes an unhandled rejection: its error goes to `listenerError` listeners and to the
   * `logger` (an `error` line), or to `console.error` when there is neither.
   *
   * @example
   * ```ts
   * const stop = ai.resilience.on('retry', (e) => console.warn(`${e.model}: ${e.kind}, retry in ${e.delay} ms`));
   * ```
   */
  on<E extends ResilienceEventName>(event: E, listener: ResilienceListener<E>): () => void;
  /**
   * Counters per model and per tenant: calls, successes, failures by kind, retries, latency percentiles
   * (p50/p95/p99, bounded memory) and token usage, plus circuit states, rate limits and bulkhead load.
   */
  stats(): ResilienceStats;
  /** The state of every circuit seen so far, by breaker key (`{}` when the breaker is off). */
  circuits(): Record<string, CircuitState>;
  /** The circuit states as JSON, to carry over a restart (for example a serverless cold start). */
  exportState(): BreakerState;
  /** Takes over states from `exportState()`: open circuits stay open until their time is up. */
  restoreState(state: BreakerState): void;
  /** The bulkhead's load: requests in flight and calls waiting (zeros when it is off). */
  load(): { readonly active: number; readonly queued: number };
  /**
   * A view of this client whose calls belong to `tenant`: it shares every policy and all state, and the
   * bulkhead and rate limiter treat tenants fairly (`bulkhead.maxConcurrentPerTenant`,
   * `rateLimit.tenantShare`). Views are cached per tenant.
   */
  forTenant(tenant: string): Client;
  /**
   * A view of this client whose calls belong to `trafficClass` (`'interactive'`, `'default'` or
   * `'background'`): queues serve higher classes first, and shed lower ones first (docs/traffic-classes.md).
   * It keeps this view's tenant and shares every policy and all state; views are cached per class. One
   * request may declare its own class with the `x-openai-resilient-class` header instead; nothing about
   * the class is ever sent upstream.
   *
   * @throws TypeError when `trafficClass` is not one of the classes.
   *
   * @example
   * ```ts
   * const batch = ai.resilience.forClass('background');
   * await batch.embeddings.create({ model: 'text-embedding-3-small', input: texts });
   * ```
   */
  forClass(trafficClass: TrafficClass): Client;
}

export function createResilience<Client>(
  shared: SharedState,
  forTenant: (tenant: string) => Client,
  forClass: (trafficClass: TrafficClass) => Client,
): Resilience<Client> {
  const { events, breakers, bulkhead, rateLimiter, stats, cache, link } = shared;
  const load = () => ({ active: bulkhead?.active ?? 0, queued: bulkhead?.queued ?? 0 });
  return Object.freeze({
    on: <E extends ResilienceEventName>(event: E, listener: ResilienceListener<E>) => events.on(event, listener),
    circuits: () => breakers?.states() ?? {},
    exportState: () => breakers?.exportState() ?? { version: 1 as const, circuits: {} },
    restoreState: (state: BreakerState) => breakers?.restoreState(state),
    load,
    stats(): ResilienceStats {
      const { total, models, endpoints, tenants, classes } = stats.snapshot();
      const circuits = breakers?.states() ?? {};
      const withLimits: Record<string, CallStatsSnapshot & { rateLimit: RateLimitView }> = {};
      for (const [model, counters] of Object.entries(models)) {
        withLimits[model] = { ...counters, rateLimit: rateLimiter?.limits(model) ?? {} };
      }
      return {
        since: stats.since,
        total,
        models: withLimits,
        endpoints,
        tenants,
        classes,
        circuits,
        bulkhead: { ...load(), classes: bulkhead?.classes() ?? emptyClasses() },
        rateLimit: { classes: shared.rateLimitClasses?.snapshot() ?? emptyClasses() },
        singleFlight: { inFlight: cache?.inFlight ?? 0, waiting: cache?.waiting ?? 0 },
        shared: link?.stats(),
        budgets: shared.budgets?.stats() ?? {},
        ...(shared.pool ? { members: memberStats(shared, Object.keys(models), circuits) } : {}),
      };
    },
    forTenant(tenant: string) {
      if (typeof tenant !== 'string' || tenant === '') {
        throw new TypeError('openai-resilient: `forTenant(tenant)` expects a non-empty string.');
      }
      return forTenant(tenant);
    },
    forClass(trafficClass: TrafficClass) {
      return forClass(trafficClassOption('`forClass(trafficClass)`', trafficClass));
    },
  });
}

/** The per-class bulkhead numbers of a client without a bulkhead: all zeros. */
function emptyClasses(): Record<TrafficClass, BulkheadClassStats> {
  return new ClassCounters().snapshot(() => 0);
}

/** Each pool member's counts, circuits and rate limits (for the `models` called so far that it serves). */
function memberStats(shared: SharedState, models: readonly string[], circuits: Record<string, CircuitState>): Record<string, MemberStats> {
  const members: Record<string, MemberStats> = {};
  for (const { state, rateLimiter } of shared.pool!.members) {
    const prefix = `${state.name}/`;
    const own: Record<string, CircuitState> = {};
    for (const [key, circuit] of Object.entries(circuits)) if (key.startsWith(prefix)) own[key.slice(prefix.length)] = circuit;
    const rateLimits: Record<string, RateLimitView> = {};
    if (rateLimiter) for (const model of models) if (state.modelFor(model) !== undefined) rateLimits[model] = rateLimiter.limits(model);
    members[state.name] = { ...state.counts(), latency: state.latency, circuits: own, rateLimits };
  }
  return members;
}
