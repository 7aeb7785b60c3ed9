import type { EventBus } from '../events/event-bus.js';
import type { Clock } from '../core/clock.js';
import type { CacheableRequest } from './cacheable.js';
import type { CachedResponse, CacheStore } from './cache-store.js';

/** Cache settings after defaults (see `CacheOptions`). */
export interface CacheSettings {
  readonly ttl: number;
  /** How long past `ttl` an entry may still be served when every attempt fails; 0 for never. */
  readonly staleIfError: number;
  readonly maxBytes: number;
  readonly store: CacheStore;
  readonly cacheable: (request: CacheableRequest) => boolean;
}

/**
 * The cache and the calls in flight, by key. Entries are kept by the store for `ttl + staleIfError`;
 * freshness is decided here, on the pipeline's clock.
 */
export class ResponseCache {
  readonly #inflight = new Map<string, Promise<CachedResponse | undefined>>();
  /** Calls waiting for an identical call in flight. */
  waiting = 0;

  /** Calls in flight that identical calls can join. */
  get inFlight(): number {
    return this.#inflight.size;
  }

  constructor(
    readonly settings: CacheSettings,
    private readonly clock: Clock,
    private readonly events: EventBus,
  ) {}

  /** The entry for `key`, fresh or (within `staleIfError`) stale; a store error counts as a miss (`cacheStoreError`). */
  async get(key: string): Promise<CachedResponse | undefined> {
    try {
      const entry = await this.settings.store.get(key);
      return entry && this.clock.now() < entry.expiresAt + this.settings.staleIfError ? entry : undefined;
    } catch (error) {
      this.events.emit('cacheStoreError', { operation: 'get', error });
      return undefined;
    }
  }

  isFresh(entry: CachedResponse): boolean {
    return this.clock.now() < entry.expiresAt;
  }

  /**
   * Stores a complete response. A store that fails costs only a future hit: the response still reaches
   * the caller, and the failure is announced (`cacheStoreError`).
   */
  put(key: string, record: CachedResponse): void {
    const failed = (error: unknown) => this.events.emit('cacheStoreError', { operation: 'set', error });
    try {
      const stored = this.settings.store.set(key, record, this.settings.ttl + this.settings.staleIfError);
      if (stored instanceof Promise) stored.catch(failed);
    } catch (error) {
      failed(error);
    }
  }

  /** The identical call already in flight, if any. */
  inflight(key: string): Promise<CachedResponse | undefined> | undefined {
    return this.#inflight.get(key);
  }

  /** Registers this call as the one in flight for `key`; returns how to settle it for those waiting. */
  lead(key: string): { resolve: (record: CachedResponse | undefined) => void; reject: (error: unknown) => void } {
    let resolve!: (record: CachedResponse | undefined) => void;
    let reject!: (error: unknown) => void;
    const flight = new Promise<CachedResponse | undefined>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    flight.catch(() => undefined);
    this.#inflight.set(key, flight);
    const done = () => {
      if (this.#inflight.get(key) === flight) this.#inflight.delete(key);
    };
    return {
      resolve: (record) => {
        done();
        resolve(record);
      },
      reject: (error) => {
        done();
        reject(error);
      },
    };
  }
}
