import type { SendOnce } from '../core/response-props.js';
import type { MemberState } from '../pool/member-state.js';
import type { PoolRouting } from '../pool/pool-options.js';
import type { RateLimiter } from '../policies/rate-limit/rate-limiter.js';
import type { ResponseOwners } from '../pool/response-owners.js';
import type { RoomQueue } from '../pool/room-queue.js';

/** One member of a pool, as the pipeline sends to it. */
export interface PoolMemberRuntime {
  readonly state: MemberState;
  /** The member's own client (a private clone with the SDK's retries off): its endpoint, key and auth. */
  readonly client: unknown;
  readonly baseURL: string;
  /** One attempt through the member client's own `makeRequest`. */
  readonly send: SendOnce;
  /** The member's own rate limits, learned from its own headers (when the rate limiter is on). */
  readonly rateLimiter: RateLimiter | undefined;
}

/** A pool (`resilient([...members])`): its members, its routing, and the calls waiting for a member to have room. */
export interface PoolState {
  readonly members: readonly PoolMemberRuntime[];
  /** The members' run-time states, in the pool's order (what routing reads). */
  readonly states: readonly MemberState[];
  readonly runtimeOf: ReadonlyMap<MemberState, PoolMemberRuntime>;
  readonly routing: PoolRouting;
  /**
   * Calls waiting for a member to be ready (every member serving their model full, paused or with its
   * circuit open): they look again, highest class first, when an attempt ends or a member's time comes.
   */
  readonly roomWaiters: RoomQueue;
  /** The member that created each stored response: calls that refer to one go there. */
  readonly owners: ResponseOwners;
}

/**
 * One call's dealings with the pool: the member its last attempt went to, the members its attempts failed
 * on (its retries go elsewhere while another member can take them), and those its attempts are on now.
 */
export interface PoolCall {
  /** The only member that can serve the call: the one holding the stored response it refers to. */
  readonly pinned: MemberState | undefined;
  last: MemberState | undefined;
  readonly failed: Set<MemberState>;
  readonly racing: Set<MemberState>;
}
