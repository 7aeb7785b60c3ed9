import { joinBytes } from '../core/join-bytes.js';

const LF = 0x0a;
const CR = 0x0d;

/**
 * A reader of `upstream` whose every chunk is one whole server-sent event (its blank line included), so
 * that a stream cut anywhere hands on only events that are complete. Bytes of an event not yet complete
 * are held until its blank line arrives; when the upstream ends, they are dropped (an event that never
 * ended was never dispatched by any SSE parser either). Line endings may be `\n`, `\r\n` or `\r`.
 */
export function alignEvents(upstream: ReadableStreamDefaultReader<Uint8Array>): ReadableStreamDefaultReader<Uint8Array> {
  const ready: Uint8Array[] = [];
  /** The pieces of the event not yet complete, as they arrived (joined once, when its blank line arrives). */
  let pieces: Uint8Array[] = [];
  /** The last byte scanned ended a line: a line ending next is a blank line, the end of an event. */
  let atLineStart = true;
  /** The last byte scanned was a `\r`: a `\n` next belongs to it. */
  let lastWasCR = false;
  const split = (bytes: Uint8Array) => {
    let start = 0;
    for (let i = 0; i < bytes.byteLength; i++) {
      const byte = bytes[i];
      if (byte === LF && lastWasCR) {
        // The `\n` of a `\r\n`. Cut from its `\r` by a read boundary, after an event that has gone on: dropped.
        lastWasCR = false;
        if (i === start && pieces.length === 0) start = i + 1;
        continue;
      }
      lastWasCR = byte === CR;
      if (byte === LF || byte === CR) {
        if (atLineStart) {
          // A blank line: the event ends here (with the `\n` of a `\r\n` if it is already here).
          let end = i + 1;
          if (byte === CR && bytes[i + 1] === LF) {
            end++;
            i++;
            lastWasCR = false;
          }
          pieces.push(bytes.subarray(start, end));
          ready.push(joinBytes(pieces));
          pieces = [];
          start = end;
        }
        atLineStart = true;
      } else atLineStart = false;
    }
    if (start < bytes.byteLength) pieces.push(bytes.subarray(start));
  };
  return {
    async read() {
      for (;;) {
        const next = ready.shift();
        if (next) return { done: false, value: next };
        const result = await upstream.read();
        if (result.done) {
          pieces = [];
          return result;
        }
        split(result.value);
      }
    },
    cancel: (reason?: unknown) => upstream.cancel(reason),
    releaseLock: () => upstream.releaseLock(),
    get closed() {
      return upstream.closed;
    },
  };
}
