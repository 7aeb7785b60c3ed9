import type { SharedMarks, SharedPlaces } from '../../shared/shared-backend.js';
import type { Places } from './model-state.js';
import type { TenantHold } from './tenant-shares.js';

/** What an admitted call holds, to correct its token estimate once `usage` is known and read the server's answer. */
export interface Reservation {
  readonly model: string;
  readonly tokens: number;
  /** The tenant's own bucket, when a `tenantShare` applies. */
  readonly tenantBucket?: TenantHold | undefined;
  /**
   * This call goes alone while the others wait for its verdict: the first to a model whose limits are not
   * known yet, or the first after a pause cut short at `maxPause`.
   */
  readonly probe: boolean;
  /** The shared buckets it was taken from (by their name across processes), when shared state answered. */
  readonly sharedKey?: string | undefined;
  /** Where it was taken from this process's buckets (what the server's answer to it is read against). */
  readonly places?: Places | undefined;
  /** Where it was taken from the shared buckets, when the shared state said. */
  readonly sharedPlaces?: SharedPlaces | undefined;
  /** What had been sent and answered when it went, when the shared state said. */
  sharedMarks?: SharedMarks | undefined;
  /** The shared state was told that its request is over (with the server's answer to it, or without). */
  told?: boolean | undefined;
  /** Its turn came (it may be refused after that, by a full bulkhead, and cancelled). */
  admitted?: boolean | undefined;
  /** When its request was sent (set by the pipeline): the server has refilled since. */
  sentAt?: number | undefined;
}

/** How the server answered a reserved request, for `RateLimiter.learn`. */
export interface AnswerOutcome {
  readonly reservation: Reservation | undefined;
  /** A 429 `rate_limited`: the server did not count the request. */
  readonly rateLimited: boolean;
  readonly succeeded: boolean;
  /** The error's `type` (OpenAI's 429 names the limit: `requests` or `tokens`). */
  readonly limitType?: unknown;
  /** The tokens the response's `usage` reports, if any. */
  readonly usedTokens?: number | undefined;
}
