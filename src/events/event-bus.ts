import type { ResilienceEventName, ResilienceEvents, ResilienceListener } from './event-map.js';

/** How a listener failed: it threw, or the promise it returned (an `async` listener) rejected. */
export type ListenerFailure = 'threw' | 'rejected';

/** Writes a listener's failure to the configured logger (see `events/logging.ts`). */
export type ListenerFailureLog = (event: ResilienceEventName, error: unknown, failure: ListenerFailure) => void;

/**
 * Synchronous, typed events. Unlike cockatiel's events, a listener that fails never breaks the call it
 * observes, whether it throws or returns a promise that rejects (an `async` listener; its rejection is
 * handled here, so it never becomes an unhandled rejection). The failure is reported:
 * - to `listenerError` listeners, and
 * - to the configured logger (`log`), at `error` level;
 * - to `console.error` only when neither exists, so that it is never lost.
 *
 * A failing `listenerError` listener is reported to the logger or `console.error`, never to
 * `listenerError` listeners again, so a failure cannot loop.
 */
export class EventBus {
  readonly #listeners = new Map<ResilienceEventName, Set<(payload: any) => unknown>>();
  readonly #log: ListenerFailureLog | undefined;

  /** `log`: where listener failures are logged, besides `listenerError` listeners (the `logger` option). */
  constructor(log?: ListenerFailureLog) {
    this.#log = log;
  }

  /** Adds a listener; returns a function that removes it. */
  on<E extends ResilienceEventName>(event: E, listener: ResilienceListener<E>): () => void {
    if (typeof listener !== 'function') {
      throw new TypeError(`openai-resilient: the listener for \`${event}\` must be a function.`);
    }
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    const own = (payload: ResilienceEvents[E]): unknown => listener(payload);
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
      let result: unknown;
      try {
        result = listener(payload);
      } catch (error) {
        this.#report(event, error, 'threw');
        continue;
      }
      if ((typeof result === 'object' && result !== null) || typeof result === 'function') this.#watch(event, result);
    }
  }

  /** A listener returned an object: if it is a promise (or a thenable), a rejection is reported, not left unhandled. */
  #watch(event: ResilienceEventName, result: object): void {
    try {
      if (typeof (result as { then?: unknown }).then !== 'function') return;
    } catch (error) {
      this.#report(event, error, 'threw');
      return;
    }
    Promise.resolve(result).then(undefined, (error: unknown) => this.#report(event, error, 'rejected'));
  }

  #report(event: ResilienceEventName, error: unknown, failure: ListenerFailure): void {
    const toListeners = event !== 'listenerError' && this.has('listenerError');
    if (toListeners) this.emit('listenerError', { event, error });
    if (this.#log) {
      try {
        this.#log(event, error, failure);
        return;
      } catch (logError) {
        console.error('openai-resilient: the logger failed while reporting a listener error.', logError);
      }
    } else if (toListeners) {
      return;
    }
    console.error(`openai-resilient: a \`${event}\` listener ${failedHow(failure)}; the call was not affected.`, error);
  }
}

/** Words for a log line: "threw", or "returned a rejected promise". */
export function failedHow(failure: ListenerFailure): string {
  return failure === 'threw' ? 'threw' : 'returned a rejected promise';
}
