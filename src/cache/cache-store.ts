import { LRUCache } from 'lru-cache';

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

/** The size an entry counts for against `maxBytes`: its body and headers, in UTF-16 code units × 2. */
export function entrySize(value: CachedResponse): number {
  let size = value.body.length;
  for (const [name, header] of value.headers) size += name.length + header.length;
  return Math.max(1, size * 2);
}

/** The default store: lru-cache bounded by entries and by bytes. */
export class MemoryCacheStore implements CacheStore {
  readonly #lru: LRUCache<string, CachedResponse>;

  constructor(options: { maxEntries: number; maxBytes: number }) {
    this.#lru = new LRUCache<string, CachedResponse>({
      max: options.maxEntries,
      maxSize: options.maxBytes,
      sizeCalculation: entrySize,
    });
  }

  get(key: string): CachedResponse | undefined {
    return this.#lru.get(key);
  }

  set(key: string, value: CachedResponse, ttl: number): void {
    this.#lru.set(key, value, { ttl: Math.max(1, Math.ceil(ttl)) });
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
