import { StreamAbandonedError } from '../errors/stream-errors.js';
import { whenCollected } from './collected-streams.js';
import { roleOf } from './event-role.js';
import { SseScanner } from './sse-scanner.js';
import { keepUrl } from './response-url.js';

/**
 * A `Response` that relays an upstream response with a new body (a guarded or recorded stream): its
 * status line, `url` and its very `Headers` object, not a copy. Copying a real OpenAI answer's ~20
 * headers costs more than building the rest of the response (`npm run bench overhead`), and nothing
 * else holds the upstream response once its body is relayed.
 */
export class RelayedResponse extends Response {
  readonly #headers: Headers;

  constructor(body: ReadableStream<Uint8Array>, upstream: Response) {
    super(body, { status: upstream.status, statusText: upstream.statusText });
    this.#headers = upstream.headers;
    keepUrl(this, upstream.url);
  }

  override get headers(): Headers {
    return this.#headers;
  }

  /** Another response with the same headers, reading the same bytes (the body is teed, as any clone's). */
  override clone(): Response {
    // The native clone tees the body; its own headers are this response's internal, empty ones.
    const copy = super.clone();
    return new RelayedResponse(copy.body!, this);
  }
}

/** What a relayed body reports as it passes its upstream's bytes on. */
export interface RelayTaps {
  /** Each chunk, as it passes. */
  readonly chunk?: (bytes: Uint8Array) => void;
  /**
   * Once, when the body ends: `complete` when read to its end. Otherwise `error` says why it failed, and
   * is `undefined` when its reader cancelled it; a body garbage-collected before its end ends with a
   * `StreamAbandonedError`.
   */
  readonly end?: (complete: boolean, error?: unknown) => void;
}

/** Pull only when a read is waiting (a `ReadableStream`'s default high-water mark of 1 pulls one chunk ahead). */
const NO_READ_AHEAD: QueuingStrategy<Uint8Array> = { highWaterMark: 0 };

/**
 * `response` with a body that passes the upstream's bytes through unchanged and reports them to `taps`
 * (a stream the cache records, a fallback client's stream whose end ends the call). A response without
 * a body is returned as it is, and ends at once as complete.
 *
 * It never reads ahead of its reader: the upstream is read only when the caller asks for the next chunk
 * (a guarded stream reads ahead of it on its own, within its bounds).
 */
export function relayBody(response: Response, taps: RelayTaps): Response {
  if (!response.body) {
    taps.end?.(true);
    return response;
  }
  const reader = response.body.getReader();
  let chunks = 0;
  // Holds no reference to the body: it ends the relay if the body is garbage-collected unfinished.
  const ending = {
    ended: false,
    forget: () => undefined as void,
    end(complete: boolean, error?: unknown) {
      if (this.ended) return;
      this.ended = true;
      this.forget();
      taps.end?.(complete, error);
    },
    collected() {
      this.end(false, new StreamAbandonedError(chunks, 'collected'));
      reader.cancel().catch(() => undefined);
    },
  };
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await reader.read();
        if (next.done) {
          ending.end(true);
          controller.close();
          return;
        }
        chunks++;
        taps.chunk?.(next.value);
        controller.enqueue(next.value);
      } catch (error) {
        ending.end(false, error);
        controller.error(error);
      }
    },
    async cancel(reason) {
      ending.end(false);
      await reader.cancel(reason);
    },
  }, NO_READ_AHEAD);
  if (taps.end) ending.forget = whenCollected(body, ending);
  return new RelayedResponse(body, response);
}

/**
 * A fallback client's stream relayed to the caller, reporting once how it ended: `undefined` when read to
 * its end or once its terminal event has passed (the SDK cancels the body right after `[DONE]`), the
 * error it failed with, or `cancelled()` when its reader left before the end.
 */
export function relayStream(response: Response, onEnd: (error?: unknown) => void, cancelled: () => Error): Response {
  const scanner = new SseScanner();
  let terminal = false;
  return relayBody(response, {
    chunk(bytes) {
      if (terminal) return;
      for (const event of scanner.push(bytes)) if (roleOf(event) === 'terminal') terminal = true;
    },
    end(complete, error) {
      onEnd(complete || terminal ? undefined : (error ?? cancelled()));
    },
  });
}
