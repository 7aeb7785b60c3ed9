import type { TrafficClass } from '../core/traffic-class.js';

/**
 * OpenAI's flex processing for calls that can wait (opt-in): they are sent with `service_tier: 'flex'`,
 * billed at Batch API rates, slower, and sometimes refused for want of capacity ("429 Resource
 * Unavailable", not charged). Such a refusal sends the call again at once at its usual tier, unless
 * `whenUnavailable` says to retry at flex. Only Chat Completions and Responses calls that set no
 * `service_tier` of their own are changed; the caller's response is the API's, `service_tier` included.
 */
export interface FlexOptions {
  /** The traffic classes whose calls are sent at flex (see `resilience.forClass()`). @default ['background'] */
  readonly classes?: readonly TrafficClass[] | undefined;
  /**
   * The models sent at flex (flex is offered for some models only; a model that refuses it with a 400
   * naming `service_tier` is sent at its usual tier from then on).
   * @default every model
   */
  readonly models?: readonly string[] | undefined;
  /**
   * When flex has no capacity for a call: `'default'` sends it again at once without `service_tier` (the
   * project's default tier: OpenAI's advice when the result is wanted in time), not charged to the retries
   * or the retry budget; `'retry'` retries it at flex after the backoff, as any retryable failure
   * (OpenAI's other advice, when cost matters more than time).
   * @default 'default'
   */
  readonly whenUnavailable?: 'default' | 'retry' | undefined;
}
