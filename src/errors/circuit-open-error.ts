import { ResilienceError } from './resilience-error.js';

/**
 * The circuit for this request's key (by default its model) is open: the upstream failed repeatedly and
 * the call was refused without sending a request, at once or after waiting for a probe that failed
 * (`circuitBreaker.waitForProbe`). `cause` is the failure that opened the circuit (or reopened it: the
 * failed probe's).
 */
export class CircuitOpenError extends ResilienceError {
  override readonly name = 'CircuitOpenError';
  readonly kind = 'circuit_open' as const;
  /** The breaker key, by default the model. */
  readonly key: string;
  /** When the circuit lets a probe through again (epoch ms). */
  readonly retryAt: number;
  /** Milliseconds from the refusal until `retryAt`. */
  readonly retryAfter: number;

  constructor(key: string, retryAt: number, now: number, cause?: unknown) {
    const retryAfter = Math.max(0, retryAt - now);
    super(
      retryAfter > 0
        ? `Circuit for "${key}" is open after repeated upstream failures; retrying in ${retryAfter} ms.`
        : `Circuit for "${key}" is half-open and its probe is still running; try again shortly.`,
      { cause },
    );
    this.key = key;
    this.retryAt = retryAt;
    this.retryAfter = retryAfter;
  }
}
