import { defaultCacheable, type CacheableRequest } from './cacheable.js';
import { MemoryCacheStore, type CacheStore } from './cache-store.js';
import type { CacheSettings } from './response-cache.js';
import { LIMITS } from '../core/option-limits.js';
import { fail, numberOption, objectWithKeys } from '../core/validate.js';

export const CACHE_DEFAULTS = Object.freeze({ ttl: 3_600_000, maxEntries: 1_000, maxBytes: 50 * 1024 * 1024, staleIfError: 86_400_000 });

export function resolveCache(value: unknown): CacheSettings | undefined {
  if (value === undefined || value === false) return undefined;
  const o = (value === true ? {} : objectWithKeys('cache', value, ['ttl', 'maxEntries', 'maxBytes', 'store', 'cacheable', 'staleIfError']))!;
  const store = o['store'];
  if (store !== undefined && (typeof (store as CacheStore).get !== 'function' || typeof (store as CacheStore).set !== 'function')) {
    fail('cache.store', 'an object with `get(key)` and `set(key, value, ttl)`', store);
  }
  const cacheable = o['cacheable'];
  if (cacheable !== undefined && typeof cacheable !== 'function') fail('cache.cacheable', 'a function', cacheable);
  const stale = o['staleIfError'];
  if (stale !== undefined && typeof stale !== 'boolean') numberOption('cache.staleIfError', stale, { max: LIMITS.cacheDuration });
  const maxBytes = numberOption('cache.maxBytes', o['maxBytes'], { min: 1, max: LIMITS.cacheBytes, integer: true }) ?? CACHE_DEFAULTS.maxBytes;
  return {
    ttl: numberOption('cache.ttl', o['ttl'], { min: 1, max: LIMITS.cacheDuration }) ?? CACHE_DEFAULTS.ttl,
    staleIfError: stale === true ? CACHE_DEFAULTS.staleIfError : typeof stale === 'number' ? stale : 0,
    maxBytes,
    store:
      (store as CacheStore | undefined) ??
      new MemoryCacheStore({
        maxEntries: numberOption('cache.maxEntries', o['maxEntries'], { min: 1, max: LIMITS.cacheEntries, integer: true }) ?? CACHE_DEFAULTS.maxEntries,
        maxBytes,
      }),
    cacheable: (cacheable as ((request: CacheableRequest) => boolean) | undefined) ?? defaultCacheable,
  };
}
