import { LRUCache } from 'lru-cache';
import { bucketCapacity } from './bucket-capacity.js';
import { ClassLine } from './class-line.js';
import { TokenBucket } from './token-bucket.js';

const MAX_TENANT_BUCKETS = 1_000;

/** When a tenant's waiting call gets its share (epoch ms): later when a higher class goes ahead of it. */
interface ShareSlot {
  at: number;
}

/** One call's wait for its tenant's share (see {@link TenantShares.reserve}). */
export interface ShareTurn {
  /** Milliseconds from `now` until its turn. */
  readonly wait: (now: number) => number;
  /** It no longer waits: it got its turn (`served`), or gave up. */
  readonly leave: (served: boolean) => void;
}

/** A request taken from a tenant's share, given back (`refund`) when it is not sent: a local bucket, or the shared one's. */
export interface TenantHold {
  refund(amount: number, now: number): void;
}

/**
 * Each tenant's own request bucket per model: `share` of the model's request rate (`tenantShare`). A
 * tenant over its share waits for its own bucket before it reserves any of the model's capacity, so its
 * backlog never books model capacity ahead of other tenants.
 *
 * A tenant's waiting calls get its share by traffic class, as the model's capacity (see `ClassLine`): a
 * newcomer takes the turn of the first waiting call of a lower class it may pass, and the calls from
 * there move back by one turn each; `allowed` (the classes' reserved shares) keeps a lower class
 * progressing.
 */
export class TenantShares {
  readonly #buckets = new LRUCache<string, TokenBucket>({ max: MAX_TENANT_BUCKETS });
  /** The calls waiting for each bucket, in the order of their turns (only while some wait). */
  readonly #lines = new WeakMap<TokenBucket, ClassLine<ShareSlot>>();

  /** @param allowed per class rank, how many calls in a row may go ahead of that class (see `jumpsAllowed`) */
  constructor(
    private readonly share: number,
    private readonly allowed: (rank: number) => number = () => Number.POSITIVE_INFINITY,
  ) {}

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

  /**
   * Takes one request from `bucket` for a call of class `rank`: `undefined` when it may go at once
   * (nothing is set up), otherwise its turn, ahead of the waiting calls of lower classes (they move back,
   * and find out at their next look).
   */
  reserve(bucket: TokenBucket, rank: number, now: number): ShareTurn | undefined {
    const wait = bucket.reserve(1, now);
    if (wait === 0) return undefined;
    let line = this.#lines.get(bucket);
    if (!line) this.#lines.set(bucket, (line = new ClassLine(this.allowed)));
    const slot: ShareSlot = { at: now + wait };
    const spot = line.spot(rank);
    const entry = line.join(rank, slot, spot, () => 0);
    if (spot.before) {
      // The newcomer takes the earliest of the turns from there; each call it passed, the next one.
      const moved = [entry, ...spot.jumped];
      const turns = moved.map((each) => each.item.at).sort((a, b) => a - b);
      moved.forEach((each, index) => (each.item.at = turns[index]!));
    }
    const owner = line;
    return {
      wait: (at) => Math.max(0, slot.at - at),
      leave: (served) => {
        owner.leave(entry, served);
        if (owner.size === 0 && this.#lines.get(bucket) === owner) this.#lines.delete(bucket);
      },
    };
  }
}
