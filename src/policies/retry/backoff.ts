import type { IBackoff, IBackoffFactory } from 'cockatiel';
import type { RetryBackoffContext } from './retry-options.js';

/** `overloaded` (503/529) means "send less": its backoff is this many times `server_error`'s. */
export const OVERLOADED_BACKOFF_FACTOR = 4;

export interface ExponentialJitterOptions {
  /** @default 500 */
  readonly initialDelay?: number;
  /** @default 30_000 */
  readonly maxDelay?: number;
  /** @default true */
  readonly jitter?: boolean;
  /** @default Math.random */
  readonly random?: () => number;
}

/**
 * The default retry backoff, a cockatiel `IBackoffFactory`: `initialDelay × 2^(attempt-1)` (×4 for
 * `overloaded`), capped at `maxDelay`, with "equal jitter" (a uniform draw between half and all of it).
 * Equal jitter keeps the growth that gives an upstream room to recover while spreading synchronised
 * clients apart.
 */
export class ExponentialJitterBackoff implements IBackoffFactory<RetryBackoffContext> {
  readonly #initialDelay: number;
  readonly #maxDelay: number;
  readonly #jitter: boolean;
  readonly #random: () => number;

  constructor(options: ExponentialJitterOptions = {}) {
    this.#initialDelay = options.initialDelay ?? 500;
    this.#maxDelay = options.maxDelay ?? 30_000;
    this.#jitter = options.jitter ?? true;
    this.#random = options.random ?? Math.random;
  }

  next(context: RetryBackoffContext): IBackoff<RetryBackoffContext> {
    const factor = context.kind === 'overloaded' ? OVERLOADED_BACKOFF_FACTOR : 1;
    const exponent = Math.max(0, context.attempt - 1);
    const ceiling = Math.min(this.#maxDelay, this.#initialDelay * factor * 2 ** exponent);
    const duration = this.#jitter ? ceiling / 2 + (this.#random() * ceiling) / 2 : ceiling;
    return { duration: Math.round(duration), next: (ctx) => this.next(ctx) };
  }
}
