import type { OpenAIClientLike } from '../core/sdk-internals.js';

/**
 * One member of a pool (`resilient([memberA, memberB])`): a client for one deployment, key, project,
 * region or OpenAI-compatible provider, with its own circuits, rate limits and concurrency. A bare client
 * is a member with every default.
 *
 * @example
 * ```ts
 * { client: new AzureOpenAI({ endpoint: EAST, apiVersion }), name: 'eastus', models: { 'gpt-4.1': 'gpt41-east' } }
 * ```
 */
export interface PoolMember<T extends OpenAIClientLike = OpenAIClientLike> {
  /** The member's client, as you would build it for this deployment alone. It is not modified. */
  readonly client: T;
  /**
   * Names the member in `stats().members`, `circuits()` keys (`<name>/<model>`), events and OpenTelemetry
   * attributes. Unique in the pool.
   * @default the host of the client's `baseURL` (`api.openai.com`), with `#2`, `#3`… for repeats
   */
  readonly name?: string | undefined;
  /**
   * Its capacity relative to the other members, until its own rate-limit headers say what it is: a member
   * of weight 2 gets about twice the calls of a member of weight 1. Once limits are learned, the learned
   * requests per minute are multiplied by it.
   * @default 1
   */
  readonly weight?: number | undefined;
  /**
   * The models the member serves: a list of names, or a map from the model the caller asks for to the name
   * this member knows it by (an Azure deployment name). A call for a model the member does not serve never
   * goes to it.
   * @default every model, under the caller's name
   * @example `{ 'gpt-4.1': 'gpt41-eastus', 'gpt-4.1-mini': 'mini-eastus' }`
   */
  readonly models?: readonly string[] | Readonly<Record<string, string>> | undefined;
  /**
   * Requests in flight to this member at most; a full member is skipped (calls wait for the first member
   * to have room only when every member is full).
   * @default unlimited
   */
  readonly maxConcurrent?: number | undefined;
}

/**
 * How a pool picks the member for each attempt, among those that can take it (serve the model, circuit
 * not open, not paused after a 429, not full):
 * - `'balanced'`: two members drawn at random in proportion to their capacity; the one whose call would be
 *   answered sooner (its rate limiter's queue, its calls in flight for its capacity) gets it. Spreads load
 *   by capacity and cannot herd onto one member.
 * - `'ordered'`: the first member in the list whose limits let the call go now; the others on overflow or
 *   failure (a primary deployment with spill-over).
 * - `'weighted'`: one member drawn at random in proportion to its capacity.
 */
export type PoolRouting = 'balanced' | 'ordered' | 'weighted';

/** The `pool` option: how a pool of members (`resilient([...members])`) routes its calls. */
export interface PoolOptions {
  /** How each attempt picks its member. @default 'balanced' */
  readonly routing?: PoolRouting | undefined;
  /**
   * Anti-starvation among traffic classes waiting for a member (every member full, paused or with its
   * circuit open): they look again highest class first whenever something frees up, and while a lower
   * class waits and higher ones keep taking the room, every `lowerClassEvery`-th time the lower classes'
   * longest waiter looks first. A lower class so keeps at least `1 / lowerClassEvery` of the room under
   * contention. An integer from 2 to 1_000_000 (higher: stricter priority).
   * @default 10
   */
  readonly lowerClassEvery?: number | undefined;
}
