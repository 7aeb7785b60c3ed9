import type { Abortable } from '../core/abort-scope.js';
import type { SdkRequestOptions } from '../core/request-info.js';
import type { SendOnce } from '../core/response-props.js';

/**
 * How a request that continues an attempt's stream after it failed (a background response's resume, a chat
 * stream's continuation) reaches the attempt's upstream: through the same client, and through the protecting
 * policies again, as an attempt goes.
 */
export interface FollowUpLink {
  /** Sends through the attempt's client (a pool's: the member that holds the response). */
  readonly send: SendOnce;
  /** The attempt's request options (their headers go with the follow-up). */
  readonly working: SdkRequestOptions;
  readonly attempt: number;
  readonly deadlineAt: number | undefined;
  /** The attempt's time limit (for a stream: until its first chunk), in ms. */
  readonly timeout: number | undefined;
  /**
   * Ends what the attempt holds from the protecting policies with `error` (the breaker and the rate limiter
   * count the failure) and enters them again for the follow-up, as an attempt does (`enterGuards`): it may
   * wait for the rate limiter, and throws when the circuit is open or the bulkhead full.
   */
  readonly renewGuard: (error: unknown, call: Abortable) => Promise<void>;
  /** The follow-up's response arrived: the guard it entered is told, as an attempt's is. */
  readonly responded: (response: Response) => void;
}
