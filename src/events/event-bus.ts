import type { ResilienceEventName, ResilienceEvents, ResilienceListener } from './event-map.js';

/**
 * Synchronous, typed events. Unlike cockatiel's events, a listener that throws never breaks the call it
 * observes: the error goes to `listenerError` listeners, or to `console.error` when there are none (so
 * it is never lost).
 */
export class EventBus {
  readonly #listeners = new Map<ResilienceEventName, Set<(payload: any) => void>>();

  /** Adds a listener; returns a function that removes it. */
  on<E extends ResilienceEventName>(event: E, listener: ResilienceListener<E>): () => void {
    if (typeof listener !== 'function') {
      throw new TypeError(`openai-resilient: the listener for \`${event}\` must be a function.`);
    }
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    const own = (payload: ResilienceEvents[E]) => listener(payload);
    set.add(own);
    return () => {
      set.delete(own);
    };
  }

  /** True when someone listens, so that callers can skip building a payload. */
  has(event: ResilienceEventName): boolean {
    return (this.#listeners.get(event)?.size ?? 0) > 0;
  }

  emit<E extends ResilienceEventName>(event: E, payload: ResilienceEvents[E]): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(payload);
      } catch (error) {
        this.#reportListenerError(event, error);
      }
    }
  }

  #reportListenerError(event: ResilienceEventName, error: unknown): void {
    if (event !== 'listenerError' && this.has('listenerError')) {
      this.emit('listenerError', { event, error });
    } else {
      console.error(`openai-resilient: a \`${event}\` listener threw; the call was not affected.`, error);
    }
  }
}
