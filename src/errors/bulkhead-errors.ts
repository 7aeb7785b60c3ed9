import { ResilienceError } from './resilience-error.js';

/** The bulkhead's queue was full: the call was shed at once, without a request. */
export class BulkheadFullError extends ResilienceError {
  override readonly name = 'BulkheadFullError';
  readonly kind = 'bulkhead_full' as const;
  readonly maxConcurrent: number;
  readonly maxQueued: number;

  constructor(maxConcurrent: number, maxQueued: number, tenant: string | undefined) {
    super(
      `Bulkhead full: ${maxConcurrent} requests running and ${maxQueued} queued${tenant === undefined ? '' : ` (tenant "${tenant}")`}.`,
    );
    this.maxConcurrent = maxConcurrent;
    this.maxQueued = maxQueued;
  }
}

/** The call waited `queueTimeout` for a bulkhead slot without getting one. */
export class BulkheadTimeoutError extends ResilienceError {
  override readonly name = 'BulkheadTimeoutError';
  readonly kind = 'bulkhead_timeout' as const;
  /** How long the call waited, in milliseconds. */
  readonly waited: number;

  constructor(waited: number) {
    super(`Waited ${waited} ms for a bulkhead slot without getting one.`);
    this.waited = waited;
  }
}
