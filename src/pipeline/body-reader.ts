import { joinBytes } from '../core/join-bytes.js';
import type { Clock } from '../core/clock.js';

/** How the body of an answer that is not a stream is read (see {@link readBodyText}). */
export interface BodyReadHooks {
  readonly clock: Clock;
  /** Longest silence while the body arrives, in ms (`timeout.idle`); `undefined` for none. */
  readonly idle: number | undefined;
  /** The body went silent for `idle` ms: the error that fails the attempt (the SDK's timeout error). */
  readonly stalled: (idle: number) => Error;
  /** The connection failed mid-body (a reset, a socket closed before `Content-Length` was met). */
  readonly lost: (cause: unknown) => Error;
}

/**
 * The whole body of `response` as text, as `response.text()` gives it, except that:
 * - a body that goes silent for `hooks.idle` ms is cancelled (its connection closed) and fails with
 *   `hooks.stalled()`: without it, a body whose headers came but whose bytes never do is bounded only by
 *   the attempt's limit, or by Node's fetch giving up after 300 s;
 * - a body cut by the network fails with `hooks.lost(cause)` (the SDK's `APIConnectionError`), as a stream
 *   cut mid-way does, instead of undici's raw `TypeError: terminated`;
 * - a body ended by an abort of the request (`signal`: the caller's, the deadline, the attempt's limit)
 *   fails with that abort's own error, which the attempt translates.
 *
 * One timer watches the whole read (it is not reset per chunk): when it fires early it watches the rest
 * of the current silence.
 */
export async function readBodyText(response: Response, signal: AbortSignal, hooks: BodyReadHooks): Promise<string> {
  const body = response.body;
  if (body === null) return '';
  const reader = body.getReader();
  const { clock, idle } = hooks;
  let stall: Error | undefined;
  let lastDataAt = clock.now();
  let timer: unknown;
  const watch = (ms: number) => {
    timer = clock.setTimeout(() => {
      const silent = clock.now() - lastDataAt;
      if (silent < idle!) {
        watch(idle! - silent);
        return;
      }
      timer = undefined;
      stall = hooks.stalled(idle!);
      // A read waiting on the body resolves as done at once; the connection is closed.
      reader.cancel(stall).catch(() => undefined);
    }, ms);
  };
  if (idle !== undefined) watch(idle);
  const pieces: Uint8Array[] = [];
  try {
    for (;;) {
      const next = await reader.read();
      if (stall) throw stall;
      if (next.done) break;
      lastDataAt = clock.now();
      pieces.push(next.value);
    }
    return UTF8.decode(joinBytes(pieces));
  } catch (cause) {
    if (stall) throw stall;
    if (signal.aborted) throw cause;
    throw hooks.lost(cause);
  } finally {
    if (timer !== undefined) clock.clearTimeout(timer);
  }
}

/** Decodes a whole body at once (no `stream` option: nothing is carried from one call to the next). */
const UTF8 = new TextDecoder();
