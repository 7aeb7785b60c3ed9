import { classify } from '../classify/classify.js';
import { eventBase } from '../events/event-base.js';
import { statsScope } from '../stats/stats-scope.js';
import type { PipelineContext } from './pipeline-context.js';
import type { RequestInfo } from '../core/request-info.js';

/**
 * Ends a call once: its `stats()` numbers and its `callEnd` event. A call that hands over a live stream
 * (the upstream's, or a fallback client's) ends with that stream, however it ends: read to its end, failed
 * after its first chunk (a reset, a stall, a truncation, an error event: a failure of that kind), stopped
 * by its caller (`break`, an abort: `aborted`), or abandoned (`aborted` too). Its duration and usage are
 * then the whole stream's. Other calls, and streams answered without an upstream (the cache, the
 * last-resort value), end as they are handed over.
 */
export class CallEnd {
  readonly #ctx: PipelineContext;
  readonly #request: RequestInfo;
  readonly #startedAt: number;
  #ended = false;
  /** A live stream is being handed over: the call ends with it. */
  #streaming = false;
  #handedOver = false;
  /** How the stream ended, if it did before it was handed over. */
  #early: { error: unknown } | undefined;

  constructor(ctx: PipelineContext, request: RequestInfo, startedAt: number) {
    this.#ctx = ctx;
    this.#request = request;
    this.#startedAt = startedAt;
  }

  /** A live stream is being handed to the caller. */
  readonly streamStarted = (): void => {
    this.#streaming = true;
  };

  /** The live stream ended; `error` says how it failed, or that its caller stopped or abandoned it. */
  readonly streamEnded = (error?: unknown): void => {
    this.#streaming = true;
    if (this.#handedOver) this.#end(error);
    else this.#early ??= { error };
  };

  /** The call's answer reached the caller: it ends now, or with its stream. */
  handedOver(): void {
    this.#handedOver = true;
    if (!this.#streaming) this.#end(undefined);
    else if (this.#early) this.#end(this.#early.error);
  }

  /** The call failed before any answer was handed over. */
  failed(error: unknown): void {
    this.#end(error);
  }

  #end(error: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    const ctx = this.#ctx;
    const request = this.#request;
    const { stats, events } = ctx.shared;
    const duration = ctx.options.clock.now() - this.#startedAt;
    const kind = error === undefined ? undefined : classify(error).kind;
    if (kind === undefined) stats.succeeded(statsScope(ctx, request), duration);
    else stats.failed(statsScope(ctx, request), kind);
    if (!events.has('callEnd')) return;
    const { responseModel, usage } = request.observed;
    events.emit('callEnd', {
      ...eventBase(ctx, request), outcome: kind === undefined ? 'success' : 'failure', kind, error, duration,
      stream: request.stream, responseModel, usage,
    });
  }
}
