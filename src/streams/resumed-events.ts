import { MalformedResponseError } from '../errors/malformed-response-error.js';
import { SseScanner } from '../responses/sse-scanner.js';

const SEQUENCE_NUMBER = /"sequence_number"\s*:\s*(\d+)/;

/** The `sequence_number` of a Responses API event's data, if it has one. */
export function sequenceNumberOf(data: string): number | undefined {
  const match = SEQUENCE_NUMBER.exec(data);
  return match ? Number(match[1]) : undefined;
}

/**
 * The events of a resumed background stream (`upstream` yields one whole event per chunk, see
 * `alignEvents`) that follow the one numbered `after`: those numbered `after` or less are dropped (a
 * server that replays the whole stream, as `responses.stream({ response_id, starting_after })` asks for,
 * loses nothing), and one that skips a number fails the stream as a `MalformedResponseError` rather than
 * hand on a stream with a hole in it. Events without a number (comments, keep-alives) pass.
 */
export function resumedEvents(
  upstream: ReadableStreamDefaultReader<Uint8Array>,
  after: number,
  response: Response,
): ReadableStreamDefaultReader<Uint8Array> {
  let last = after;
  const scanner = new SseScanner();
  return {
    async read() {
      for (;;) {
        const result = await upstream.read();
        if (result.done) return result;
        const events = scanner.push(result.value);
        const number = events.length === 1 ? sequenceNumberOf(events[0]!.data) : undefined;
        if (number === undefined) return result;
        if (number <= last) continue;
        if (number > last + 1) {
          await upstream.cancel().catch(() => undefined);
          throw new MalformedResponseError(`Resumed stream skipped events ${last + 1} to ${number - 1}: it cannot continue without a hole.`, response);
        }
        last = number;
        return result;
      }
    },
    cancel: (reason?: unknown) => upstream.cancel(reason),
    releaseLock: () => upstream.releaseLock(),
    get closed() {
      return upstream.closed;
    },
  };
}
