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
  let pending = new Uint8Array(0);
  /** The last byte scanned ended a line: a line ending next is a blank line, the end of an event. */
  let atLineStart = true;
  /** The last byte scanned was a `\r`: a `\n` next belongs to it. */
  let lastWasCR = false;
  const split = (bytes: Uint8Array) => {
    const data = pending.byteLength === 0 ? bytes : concat(pending, bytes);
    let start = 0;
    for (let i = pending.byteLength; i < data.byteLength; i++) {
      const byte = data[i];
      if (byte === LF && lastWasCR) {
        // The `\n` of a `\r\n`: the line ended at the `\r`.
        lastWasCR = false;
        // Cut from its `\r` by a chunk boundary: the event it ended has gone on already.
        if (i === start) start = i + 1;
        continue;
      }
      lastWasCR = byte === CR;
      if (byte === LF || byte === CR) {
        if (atLineStart) {
          // A blank line: the event ends here (with the `\n` of a `\r\n` if it is already here).
          const end = byte === CR && data[i + 1] === LF ? i + 2 : i + 1;
          if (end === i + 2) {
            lastWasCR = false;
            i++;
          }
          ready.push(data.subarray(start, end));
          start = end;
        }
        atLineStart = true;
      } else atLineStart = false;
    }
    pending = data.slice(start);
  };
  const reader: ReadableStreamDefaultReader<Uint8Array> = {
    async read() {
      for (;;) {
        const next = ready.shift();
        if (next) return { done: false, value: next };
        const result = await upstream.read();
        if (result.done) {
          pending = new Uint8Array(0);
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
  return reader;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.byteLength + b.byteLength);
  joined.set(a);
  joined.set(b, a.byteLength);
  return joined;
}
