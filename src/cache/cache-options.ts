import type { CacheableRequest } from './cacheable.js';
import type { CacheStore } from './cache-store.js';

/**
 * The response cache. Keys are SHA-256 fingerprints of the canonical request (method, path, query,
 * every body field with sorted keys, per-request headers) scoped by base URL, organization, project,
 * client defaults, tenant and a fingerprint of the API key; never the key itself.
 */
export interface CacheOptions {
  /** How long an entry is fresh, in milliseconds, at most 31_536_000_000 (365 days). @default 3_600_000 (one hour) */
  readonly ttl?: number | undefined;
  /**
   * Entries kept by the default in-memory store: an integer from 1 to 10_000_000. Building the store costs
   * the same whatever the bound (nothing is allocated up front).
   * @default 1_000
   */
  readonly maxEntries?: number | undefined;
  /** Bytes kept by the default in-memory store (bodies and headers, UTF-16): an integer up to 2 ** 40 (1 TiB). @default 52_428_800 (50 MiB) */
  readonly maxBytes?: number | undefined;
  /** Where entries live. @default an in-memory lru-cache bounded by `maxEntries` and `maxBytes` */
  readonly store?: CacheStore | undefined;
  /**
   * Which requests may be cached.
   * @default embeddings and moderations; chat completions, completions and responses with `temperature: 0`
   *   or a `seed` (not `background`, not chat `store: true`); `GET /models` (see `defaultCacheable`)
   */
  readonly cacheable?: ((request: CacheableRequest) => boolean) | undefined;
  /**
   * Serve an expired entry when every attempt and fallback failed: `true` for up to a day past its TTL,
   * or a number of milliseconds (at most 31_536_000_000, 365 days).
   * @default false
   */
  readonly staleIfError?: boolean | number | undefined;
}
