import type { EventBus } from './events/event-bus.js';
import type { ResilienceEventName, ResilienceListener } from './events/event-map.js';

/** The `resilience` property of a resilient client: what the policies are doing, and hooks into it. */
export interface Resilience {
  /**
   * Listens to an event (`retry`, `giveUp`, `listenerError`); returns a function that stops listening.
   * Listeners run synchronously; one that throws never affects the call.
   *
   * @example
   * ```ts
   * const stop = ai.resilience.on('retry', (e) => console.warn(`${e.model}: ${e.kind}, retry in ${e.delay} ms`));
   * ```
   */
  on<E extends ResilienceEventName>(event: E, listener: ResilienceListener<E>): () => void;
}

/** Shared by a resilient client and every client derived from it with `withOptions()`. */
export interface SharedState {
  readonly events: EventBus;
}

export function createResilience(shared: SharedState): Resilience {
  return Object.freeze({
    on: <E extends ResilienceEventName>(event: E, listener: ResilienceListener<E>) => shared.events.on(event, listener),
  });
}
