import { carriedOptions, type SdkClientInternals } from '../core/sdk-internals.js';
import type { SdkRequestOptions } from '../core/request-info.js';
import type { PoolMemberRuntime, PoolState } from '../pipeline/pool-state.js';
import type { RateLimiter } from '../policies/rate-limit/rate-limiter.js';
import { MemberState } from '../pool/member-state.js';
import type { ResolvedPool } from '../pool/resolve-pool.js';
import { ResponseOwners } from '../pool/response-owners.js';
import { RoomQueue } from '../pool/room-queue.js';

/**
 * The run-time pool of `resilient([...members])`: each member's client is cloned with the SDK's retries
 * off (the member's own client is not modified), and sends its attempts through its own `makeRequest`,
 * so its endpoint, key, Azure deployment path and auth are its own. `limiterFor` gives each member its own
 * rate limiter (the limits it learns are its own).
 */
export function createPoolState(pool: ResolvedPool, limiterFor: () => RateLimiter | undefined): PoolState {
  const members: PoolMemberRuntime[] = pool.members.map((member, index) => {
    const original = member.client as SdkClientInternals;
    const client = original.withOptions({ ...carriedOptions(original), maxRetries: 0 });
    const makeRequest = client.makeRequest;
    return {
      state: new MemberState(member, index),
      client,
      baseURL: String(client.baseURL ?? ''),
      send: (options: SdkRequestOptions) => makeRequest.call(client, options, 0, undefined),
      rateLimiter: limiterFor(),
    };
  });
  return {
    members,
    states: members.map((member) => member.state),
    runtimeOf: new Map(members.map((member) => [member.state, member])),
    routing: pool.routing,
    roomWaiters: new RoomQueue(pool.lowerClassEvery),
    owners: new ResponseOwners(),
  };
}
