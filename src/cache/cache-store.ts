import { LRUCache } from 'lru-cache';
import { formatLimit, LIMITS } from '../core/option-limits.js';
import { fail, numberOption } from '../core/validate.js';

/** A complete successful response, as the cache keeps it. */
export interface CachedResponse {
  readonly status: number;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** The body as received: JSON text, or the server-sent events of a stream. */
  readonly body: string;
  readonly stream: boolean;
  /** When it was stored (epoch ms, on the pipeline's clock). */
  readonly storedAt: number;
  /** When it stops being fresh. */
  readonly expiresAt: number;
}

/**
 * Where cached responses live: any synchronous or asynchronous key-value store with a TTL. The default is
 * an in-memory lru-cache; a Redis store can implement the same three methods. Keys are SHA-256 hex
 * fingerprints; values are plain JSON-serialisable objects.
 */
export interface CacheStore {
  get(key: string): CachedResponse | undefined | Promise<CachedResponse | undefined>;
  /** Stores `value`; `ttl` (ms) is how long the store should keep it (freshness plus any stale window). */
  set(key: string, value: CachedResponse, ttl: number): unknown;
  delete?(key: string): unknown;
}

function requiredSize(path: string, value: unknown, max: number): number {
  return numberOption(path, value, { min: 1, max, integer: true }) ?? fail(path, `an integer from 1 to ${formatLimit(max)}`, value);
}

/** The size an entry counts for against `maxBytes`: its body and headers, in UTF-16 code units × 2. */
export function entrySize(value: CachedResponse): number {
  let size = value.body.length;
  for (const [name, header] of value.headers) size += name.length + header.length;
  return Math.max(1, size * 2);
}

/**
 * The default store: lru-cache bounded by entries and by bytes, evicting the least recently used.
 * It costs the same to build whatever its bounds: lru-cache would allocate arrays of `max` slots up front
 * (312 MB for 10 million), so it is given only the byte bound, and the entry bound is kept here.
 */
export class MemoryCacheStore implements CacheStore {
  readonly #lru: LRUCache<string, CachedResponse>;
  readonly #maxEntries: number;

  /**
   * `maxEntries`: an integer from 1 to 10_000_000; `maxBytes`: an integer from 1 to 2 ** 40 (1 TiB).
   * @throws TypeError naming the option beyond those bounds.
   */
  constructor(options: { maxEntries: number; maxBytes: number }) {
    this.#maxEntries = requiredSize('MemoryCacheStore.maxEntries', options?.maxEntries, LIMITS.cacheEntries);
    const maxBytes = requiredSize('MemoryCacheStore.maxBytes', options?.maxBytes, LIMITS.cacheBytes);
    this.#lru = new LRUCache<string, CachedResponse>({ maxSize: maxBytes, sizeCalculation: entrySize });
  }

  get(key: string): CachedResponse | undefined {
    return this.#lru.get(key);
  }

  set(key: string, value: CachedResponse, ttl: number): void {
    this.#lru.set(key, value, { ttl: Math.max(1, Math.ceil(ttl)) });
    // The least recently used entries go first, as lru-cache's own `max` would evict them.
    while (this.#lru.size > this.#maxEntries) this.#lru.pop();
  }

  delete(key: string): void {
    this.#lru.delete(key);
  }

  /** Entries held (for tests and stats). */
  get size(): number {
    return this.#lru.size;
  }

  /** Total size held, as counted against `maxBytes`. */
  get bytes(): number {
    return this.#lru.calculatedSize;
  }
}
