import type { ResilienceEventName, ResilienceListener } from './events/event-map.js';
import type { CircuitState } from './policies/circuit-breaker/circuit.js';
import type { BreakerState } from './policies/circuit-breaker/circuit-breakers.js';
import type { SharedState } from './pipeline/pipeline-context.js';

/** The `resilience` property of a resilient client: what the policies are doing, and hooks into it. */
export interface Resilience<Client = unknown> {
  /**
   * Listens to an event; returns a function that stops listening. Listeners run synchronously; one that
   * throws never affects the call.
   *
   * @example
   * ```ts
   * const stop = ai.resilience.on('retry', (e) => console.warn(`${e.model}: ${e.kind}, retry in ${e.delay} ms`));
   * ```
   */
  on<E extends ResilienceEventName>(event: E, listener: ResilienceListener<E>): () => void;
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
}

export function createResilience<Client>(shared: SharedState, forTenant: (tenant: string) => Client): Resilience<Client> {
  const { events, breakers, bulkhead } = shared;
  return Object.freeze({
    on: <E extends ResilienceEventName>(event: E, listener: ResilienceListener<E>) => events.on(event, listener),
    circuits: () => breakers?.states() ?? {},
    exportState: () => breakers?.exportState() ?? { version: 1 as const, circuits: {} },
    restoreState: (state: BreakerState) => breakers?.restoreState(state),
    load: () => ({ active: bulkhead?.active ?? 0, queued: bulkhead?.queued ?? 0 }),
    forTenant(tenant: string) {
      if (typeof tenant !== 'string' || tenant === '') {
        throw new TypeError('openai-resilient: `forTenant(tenant)` expects a non-empty string.');
      }
      return forTenant(tenant);
    },
  });
}
