/** One server-sent event, as far as the stream guard needs it. */
export interface SseEvent {
  /** The `event:` name, if the server sent one (the Responses API does; Chat Completions does not). */
  readonly name: string | undefined;
  /** The `data:` lines joined. */
  readonly data: string;
}

/**
 * Splits a byte stream into server-sent events incrementally (events end with a blank line; `\n`,
 * `\r\n` and `\r` line endings, a `\r\n` possibly cut between two chunks). Comments (`: keep-alive`)
 * and events without data are skipped. It runs on every chunk of every stream, so it walks the text by
 * index instead of splitting it into lines.
 *
 * Each chunk's text is searched once: an event not yet complete is kept as the pieces it arrived in and
 * joined once its blank line arrives, so an event of many megabytes (an Images API `partial_image`)
 * arriving in thousands of chunks costs time in proportion to its size, not to its size times its chunks.
 */
export class SseScanner {
  readonly #decoder = new TextDecoder();
  /** The text of the event not yet complete, in the pieces it arrived in (each non-empty). */
  #pending: string[] = [];
  /** The last chunk ended with `\r`: a `\n` starting the next one belongs to it. */
  #afterCR = false;

  /** The events completed by `bytes`. */
  push(bytes: Uint8Array): SseEvent[] {
    let text = this.#decoder.decode(bytes, { stream: true });
    // Nothing decoded (a character cut between two chunks): nothing changes.
    if (text === '') return [];
    if (this.#afterCR && text.charCodeAt(0) === LF) text = text.slice(1);
    this.#afterCR = text.charCodeAt(text.length - 1) === CR;
    if (text.includes('\r')) text = text.replace(/\r\n?/g, '\n');
    const events: SseEvent[] = [];
    if (text === '') return events;
    let start = 0;
    if (this.#pending.length > 0) {
      const pending = this.#pending;
      const last = pending[pending.length - 1]!;
      let block: string;
      if (last.charCodeAt(last.length - 1) === LF && text.charCodeAt(0) === LF) {
        // The blank line starts at the end of what was pending.
        block = pending.join('');
        start = 1;
        addEvent(events, parseBlock(block, 0, block.length - 1));
      } else {
        const end = text.indexOf('\n\n');
        if (end < 0) {
          pending.push(text);
          return events;
        }
        block = pending.join('') + text.slice(0, end);
        start = end + 2;
        addEvent(events, parseBlock(block, 0, block.length));
      }
      this.#pending = [];
    }
    for (let end = text.indexOf('\n\n', start); end >= 0; end = text.indexOf('\n\n', start)) {
      addEvent(events, parseBlock(text, start, end));
      start = end + 2;
    }
    if (start < text.length) this.#pending.push(start === 0 ? text : text.slice(start));
    return events;
  }
}

function addEvent(events: SseEvent[], event: SseEvent | undefined): void {
  if (event) events.push(event);
}

const LF = 10;
const CR = 13;
const SPACE = 32;

/** The event in `text` from `start` to `end` (its lines, without the blank line that ends it). */
function parseBlock(text: string, start: number, end: number): SseEvent | undefined {
  let name: string | undefined;
  let data: string | undefined;
  for (let line = start; line < end; ) {
    let lineEnd = text.indexOf('\n', line);
    if (lineEnd < 0 || lineEnd > end) lineEnd = end;
    if (text.startsWith('data:', line)) {
      const from = text.charCodeAt(line + 5) === SPACE && line + 5 < lineEnd ? line + 6 : line + 5;
      const value = text.slice(from, lineEnd);
      data = data === undefined ? value : `${data}\n${value}`;
    } else if (text.startsWith('event:', line)) {
      name = text.slice(line + 6, lineEnd).trim();
    }
    line = lineEnd + 1;
  }
  return data === undefined ? undefined : { name, data };
}

/**
 * Responses API events that say "started", not "producing": they do not commit a stream. A reasoning
 * model announces its reasoning item and then thinks in silence, so items and parts being added do not
 * count either; the first delta (text, reasoning summary, tool arguments...) does.
 */
const LIFECYCLE = new Set([
  'response.created', 'response.in_progress', 'response.queued', 'response.output_item.added', 'response.content_part.added',
]);
/**
 * Events after which a stream is complete. An Images API stream (`images.generate()`/`edit()` with
 * `stream: true`) sends no `[DONE]`: it ends with the one event that carries the final image.
 */
const TERMINAL = new Set([
  'response.completed', 'response.failed', 'response.incomplete', 'error', 'image_generation.completed', 'image_edit.completed',
]);

export type EventRole = 'lifecycle' | 'content' | 'terminal' | 'error';

/** What an event means for the guard: still starting, producing, finished, or an error. */
export function roleOf(event: SseEvent): EventRole {
  if (event.data === '[DONE]') return 'terminal';
  const name = eventName(event);
  if (name === 'error' || (event.name === undefined && event.data.startsWith('{"error"'))) return 'error';
  if (name !== undefined && TERMINAL.has(name)) return 'terminal';
  if (name !== undefined && LIFECYCLE.has(name)) return 'lifecycle';
  return 'content';
}

/**
 * Whether a terminal event says the answer failed: the Responses API's `response.failed`, whose
 * `response.error` says why. It ends the stream, and is an error like an `error` event.
 */
export function isFailure(event: SseEvent): boolean {
  return eventName(event) === 'response.failed';
}

/** The event's name: its `event:` line, or else the `"type"` its JSON payload leads with. */
export function eventName(event: SseEvent): string | undefined {
  return event.name ?? typeOf(event.data);
}

/** The `"type"` of a JSON payload, read cheaply from its start (Responses events lead with it). */
function typeOf(data: string): string | undefined {
  return /^\{\s*"type"\s*:\s*"([^"]+)"/.exec(data)?.[1];
}
