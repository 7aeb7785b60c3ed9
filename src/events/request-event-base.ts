import type { TrafficClass } from '../core/traffic-class.js';

/** Fields every request event carries. */
export interface RequestEventBase {
  /** The call this event belongs to (the same in its `callStart`, attempts, retries and `callEnd`). */
  readonly callId: number;
  /** The request's `model`, when its body has one. */
  readonly model: string | undefined;
  /** HTTP method, upper case. */
  readonly method: string;
  /** API path, e.g. `/chat/completions`. */
  readonly path: string;
  /** The tenant of the client view (`resilience.forTenant()`), if any. */
  readonly tenant: string | undefined;
  /** The call's traffic class: its view's (`resilience.forClass()`), or its request's header (`default` otherwise). */
  readonly trafficClass: TrafficClass;
}
