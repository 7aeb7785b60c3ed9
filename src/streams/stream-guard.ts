import { StreamIdleTimeoutError, StreamTruncatedError } from '../errors/stream-errors.js';
import { MalformedResponseError } from '../errors/malformed-response-error.js';
import type { Clock } from '../internal/clock.js';
import { RelayedResponse } from '../pipeline/relayed-response.js';
import { GuardedBody } from './guarded-body.js';
import { isFailure, roleOf, type StreamMode } from './event-role.js';
import { SseScanner, type SseEvent } from './sse-scanner.js';

/** Stream settings after defaults. */
export interface StreamGuardSettings {
  /** Longest silence once streaming, in ms; `undefined` for none. */
  readonly idle: number | undefined;
  /** What a stream that ends without its terminal event does. */
  readonly onTruncated: 'error' | 'end';
}

export interface StreamGuardHooks {
  readonly clock: Clock;
  /** Makes the SDK's own errors: a connection error, and the `APIError` of an SSE `error` event or `response.failed`. */
  readonly connectionError: (message: string, cause: unknown) => Error;
  readonly eventError: (event: SseEvent) => Error;
  /** An error of ours (`StreamIdleTimeoutError`...) re-based on the client's own SDK copy; others as they are. */
  readonly onSdkCopy: (error: unknown) => unknown;
  readonly onStall: (chunks: number) => void;
  readonly onTruncated: (chunks: number) => void;
  /** Called once when the stream ends, however: read to the end, failed, cancelled, or aborted. */
  readonly onEnd: (error?: unknown) => void;
  /** Called once with `{ usage }` when an event reports the stream's token usage (see {@link usageOf}). */
  readonly onUsage: (body: { usage: object }) => void;
  /** How the SDK reads this stream's events: which of them it raises as errors. */
  readonly streamMode: StreamMode;
}

/**
 * Holds a stream until its first meaningful event (Responses lifecycle events such as `response.created`
 * do not count: a reasoning model may think for minutes after them), so that anything failing before it
 * (including an SSE `error` event) fails the attempt and is retried. Then hands over a body that:
 * - passes the bytes through unchanged, as they arrive;
 * - aborts the connection when no data arrives for `idle` ms while the caller waits (`StreamIdleTimeoutError`);
 * - ends cleanly after the terminal event even if the server keeps the socket open;
 * - reports a stream that ends without its terminal event (`StreamTruncatedError`, or a quiet end);
 * - turns a socket reset into the SDK's `APIConnectionError`;
 * - ends at once when `signal` aborts (the caller's abort, `stream.controller.abort()`), even unread.
 */
export async function guardStream(
  response: Response,
  signal: AbortSignal,
  settings: StreamGuardSettings,
  hooks: StreamGuardHooks,
): Promise<Response> {
  if (!response.body) throw new MalformedResponseError('Stream response has no body.', response);
  const reader = response.body.getReader();
  const scanner = new SseScanner();
  const held: Uint8Array[] = [];
  let committed = false;
  let terminal = false;
  let chunks = 0;
  let usageReported = false;

  let failure: unknown;
  /**
   * Scans `bytes`; returns the error event (an `error` event, or `response.failed`) if it is the stream's
   * first meaningful event. A later one is the stream's `failure`, which the breaker records.
   */
  const take = (bytes: Uint8Array): SseEvent | undefined => {
    let leading: SseEvent | undefined;
    for (const event of scanner.push(bytes)) {
      const role = roleOf(event, hooks.streamMode);
      if (role === 'lifecycle') continue;
      if (!usageReported) {
        const usage = usageOf(event);
        if (usage) {
          usageReported = true;
          hooks.onUsage({ usage });
        }
      }
      if (role === 'terminal') terminal = true;
      if (role === 'error' || (role === 'terminal' && isFailure(event))) {
        if (chunks === 0) leading = event;
        else failure ??= hooks.eventError(event);
      }
      committed = true;
      chunks++;
    }
    return leading;
  };

  while (!committed) {
    const next = await reader.read();
    // Ended empty, or after lifecycle events only: nothing meaningful reached the caller, so the attempt
    // fails and is retried like any other.
    if (next.done) throw new MalformedResponseError('Stream ended before its first chunk.', response);
    const leadingError = take(next.value);
    if (leadingError) {
      // Nothing has reached the caller yet: the attempt fails, and is retried like any other.
      await reader.cancel().catch(() => undefined);
      throw hooks.eventError(leadingError);
    }
    held.push(next.value);
  }

  let ended = false;
  /** How the body ended for whoever reads it: `undefined` when it ended cleanly (or was cancelled). */
  let endError: unknown;
  let idleTimer: unknown;
  let body: ReadableStreamDefaultController<Uint8Array> | undefined;
  const clearIdle = () => {
    if (idleTimer !== undefined) hooks.clock.clearTimeout(idleTimer);
    idleTimer = undefined;
  };
  const end = (error?: unknown) => {
    if (ended) return;
    ended = true;
    // An error of ours reaches the caller built on the client's own SDK copy (the object stays the same).
    endError = hooks.onSdkCopy(error);
    clearIdle();
    signal.removeEventListener('abort', onAbort);
    // The body stream ends too, whichever way it was read (see `GuardedBody`).
    try {
      if (error === undefined) body?.close();
      else body?.error(error);
    } catch {
      // already closed or cancelled
    }
    // An error event seen in the stream is what went wrong, even when the SDK then aborts the request.
    hooks.onEnd(failure ?? error);
  };
  /** Ends the body with `error` and lets go of the upstream: a read waiting on it resolves as done at once. */
  const stop = (error: unknown) => {
    end(error);
    reader.cancel(error).catch(() => undefined);
  };
  const onAbort = () => stop(signal.reason);

  const finish = () => {
    if (terminal || settings.onTruncated === 'end') {
      if (!terminal) hooks.onTruncated(chunks);
      end();
      return;
    }
    hooks.onTruncated(chunks);
    end(new StreamTruncatedError(chunks));
  };
  /** A read of a body that has ended: done, or its error. */
  const readAfterEnd = () => (endError === undefined ? Promise.resolve(DONE) : Promise.reject(endError));

  /**
   * One timer watches every wait: a read that answers in time leaves it armed (no timer is set and
   * cleared per chunk), and when it fires it stalls the stream only if the current wait has lasted
   * `idle`; otherwise it watches the rest of that wait, or nothing while the caller is not waiting.
   */
  let waitingSince: number | undefined;
  const watchIdle = (idle: number, ms: number) => {
    idleTimer = hooks.clock.setTimeout(() => {
      idleTimer = undefined;
      if (ended || waitingSince === undefined) return;
      const waited = hooks.clock.now() - waitingSince;
      if (waited < idle) {
        watchIdle(idle, idle - waited);
        return;
      }
      hooks.onStall(chunks);
      stop(new StreamIdleTimeoutError(chunks, idle));
    }, ms);
  };

  /**
   * The next piece of the guarded body: the held chunks, then the upstream's, each scanned. Every way of
   * reading the body reads through here (see `GuardedBody`).
   * Not an async function: a read settles with the upstream read itself (one promise fewer per chunk).
   */
  const readGuarded = (): Promise<ReadableStreamReadResult<Uint8Array>> => {
    if (ended) return readAfterEnd();
    if (held.length > 0) return Promise.resolve({ done: false, value: held.shift()! });
    // Everything, terminal event included, may have arrived already: end once the caller has taken it, so
    // that the stream holds its bulkhead slot until it is consumed.
    if (terminal) {
      reader.cancel().catch(() => undefined);
      finish();
      return readAfterEnd();
    }
    if (settings.idle !== undefined) {
      waitingSince = hooks.clock.now();
      if (idleTimer === undefined) watchIdle(settings.idle, settings.idle);
    }
    return reader.read().then(
      (result) => {
        waitingSince = undefined;
        if (ended) return readAfterEnd();
        if (result.done) {
          finish();
          return readAfterEnd();
        }
        take(result.value);
        return result;
      },
      (cause: unknown) => {
        waitingSince = undefined;
        if (!ended) end(hooks.connectionError(`Connection lost mid-stream after ${chunks} chunk(s).`, cause));
        return readAfterEnd();
      },
    );
  };

  const stream = new GuardedBody(readGuarded, {
    start(controller) {
      body = controller;
    },
    cancel(reason) {
      // The stream is cancelled already: `end()` must not close it (which would throw, at some cost).
      body = undefined;
      end();
      return reader.cancel(reason).catch(() => undefined);
    },
  });
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  return new RelayedResponse(stream, response);
}

const DONE: ReadableStreamReadResult<Uint8Array> = Object.freeze({ done: true, value: undefined });

/**
 * The token usage an event reports: a chat chunk's `usage` (the last chunk, with
 * `stream_options.include_usage`; the others carry `"usage":null` or none), or the `response.usage` of a
 * Responses event such as `response.completed`. Only an event whose text holds a `"usage":{` is parsed, so
 * the other chunks cost one substring search.
 */
function usageOf(event: SseEvent): object | undefined {
  if (!event.data.includes('"usage":{')) return undefined;
  let payload: { usage?: unknown; response?: { usage?: unknown } | null };
  try {
    payload = JSON.parse(event.data) as typeof payload;
  } catch {
    return undefined;
  }
  const usage = payload.usage ?? payload.response?.usage;
  return typeof usage === 'object' && usage !== null ? usage : undefined;
}
