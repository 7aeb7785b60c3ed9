import { partialOutputOf, type PartialOutput } from '../partial-output.js';
import { continuationBody } from './continuation-body.js';
import type { ContinuationSetting, ContinuationStrategy } from './continuation-options.js';
import { continuationRefusal, deliveredTokens } from './continuation-refusal.js';
import type { StreamNotContinuedEvent } from '../../events/event-map.js';
import { spliceContinuation } from './continuation-splicer.js';
import type { StreamRecovery, UpstreamFailure } from '../stream-recovery.js';

/** Continuations of one stream, at most: a stream whose continuations keep failing ends with the last error. */
export const MAX_CONTINUATIONS = 2;

/** What a continuation's seam was: reported when its first chunk is about to reach the caller. */
export interface ContinuationSeam {
  /** Chunks the caller had received before the seam. */
  readonly chunks: number;
  /** Completion tokens the caller had received (`deliveredTokens`: an estimate unless usage came). */
  readonly deliveredTokens: number;
  readonly strategy: ContinuationStrategy | 'custom';
  /** Why the upstream failed (the stream recovery's `failure`). */
  readonly failure: UpstreamFailure;
  /** 1 for the stream's first continuation, 2 for a continuation of a continuation... */
  readonly continuation: number;
}

export interface ChatContinuationInit {
  /** The original request's body. */
  readonly body: Readonly<Record<string, unknown>>;
  readonly setting: ContinuationSetting;
  /**
   * Sends the continuation request (through the call's policies, to the member that served the stream)
   * and resolves to a reader of its whole SSE events, once its response has arrived. `error` is the
   * failure it continues after (what the policies record for the failed upstream).
   */
  readonly send: (body: Record<string, unknown>, signal: AbortSignal, error: unknown) => Promise<ReadableStreamDefaultReader<Uint8Array>>;
  /** The continuation answered: its chunks follow `seam.chunks`. */
  readonly onContinued?: ((seam: ContinuationSeam) => void) | undefined;
  /** The stream is not continued: `reason`, or the continuation request failed (`error`). */
  readonly onNotContinued?: ((reason: StreamNotContinuedEvent['reason'], chunks: number, error?: unknown) => void) | undefined;
  /** @default MAX_CONTINUATIONS */
  readonly maxContinuations?: number | undefined;
}

/**
 * The stream recovery of a chat stream with `streaming.continuation` on: when the stream fails after its
 * first chunk, it asks for the rest of the answer (see `continuationBody`) and hands back the
 * continuation's events, spliced (`spliceContinuation`), for the caller's stream to go on with. Where a
 * continuation cannot be faithful (`continuationRefusal`), after {@link MAX_CONTINUATIONS}, and when the
 * continuation request itself fails before its first chunk, it declines: the stream ends with its
 * original error, which carries the partial output. The caller stopping the stream (`signal`) ends it
 * with the abort.
 */
export function chatContinuation(init: ChatContinuationInit): StreamRecovery {
  const max = init.maxContinuations ?? MAX_CONTINUATIONS;
  let continued = 0;
  return {
    // What the caller received is read from the failure's partial output: nothing to learn per event.
    seen: () => undefined,
    async recover(error, failure, signal) {
      const partial = partialOutputOf(error);
      if (!partial) return undefined;
      const decline = (reason: Parameters<NonNullable<ChatContinuationInit['onNotContinued']>>[0], cause?: unknown): undefined => {
        init.onNotContinued?.(reason, partial.chunks, cause);
        return undefined;
      };
      const refusal = continuationRefusal(init.body, partial);
      if (refusal) return decline(refusal);
      if (continued >= max) return decline('limit');
      const body = continuationBody(init.body, partial, init.setting);
      if (!body) return decline('declined');
      continued++;
      let reader: ReadableStreamDefaultReader<Uint8Array>;
      try {
        reader = await init.send(body, signal, error);
      } catch (cause) {
        if (signal.aborted) throw cause;
        return decline('failed', cause);
      }
      init.onContinued?.(seamOf(partial, init.setting, failure, continued));
      return spliceContinuation(reader, {
        id: partial.id,
        created: partial.created,
        systemFingerprint: partial.systemFingerprint,
        deliveredTokens: deliveredTokens(partial),
        text: partial.text,
      });
    },
  };
}

function seamOf(partial: PartialOutput, setting: ContinuationSetting, failure: UpstreamFailure, continuation: number): ContinuationSeam {
  return { chunks: partial.chunks, deliveredTokens: deliveredTokens(partial), strategy: setting.strategy, failure, continuation };
}
