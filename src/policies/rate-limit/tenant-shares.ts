import { LRUCache } from 'lru-cache';
import { bucketCapacity } from './bucket-capacity.js';
import { TokenBucket } from './token-bucket.js';

const MAX_TENANT_BUCKETS = 1_000;

/**
 * Each tenant's own request bucket per model: `share` of the model's request rate (`tenantShare`). A
 * tenant over its share waits for its own bucket before it reserves any of the model's capacity, so its
 * backlog never books model capacity ahead of other tenants.
 */
export class TenantShares {
  readonly #buckets = new LRUCache<string, TokenBucket>({ max: MAX_TENANT_BUCKETS });

  constructor(private readonly share: number) {}

  /** The bucket of `tenant` for `model`, whose requests are paced by `modelRequests`; none when no share applies. */
  bucketFor(model: string, tenant: string | undefined, modelRequests: { readonly perMinute: number } | undefined, now: number): TokenBucket | undefined {
    if (tenant === undefined || this.share >= 1 || !modelRequests) return undefined;
    const perMinute = modelRequests.perMinute * this.share;
    const key = `${tenant}\u0000${model}`;
    let bucket = this.#buckets.get(key);
    if (!bucket) this.#buckets.set(key, (bucket = new TokenBucket(perMinute, bucketCapacity('requests', perMinute), now)));
    else if (bucket.perMinute !== perMinute) bucket.setLimit(perMinute, bucketCapacity('requests', perMinute), now);
    return bucket;
  }
}
