import { Utf8Chunks } from './utf8-chunks.js';

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
  readonly #text = new Utf8Chunks();
  /** The text of the event not yet complete, in the pieces it arrived in (each non-empty). */
  #pending: string[] = [];
  /** The last chunk ended with `\r`: a `\n` starting the next one belongs to it. */
  #afterCR = false;

  /** The events completed by `bytes`. */
  push(bytes: Uint8Array): SseEvent[] {
    let text = this.#text.decode(bytes);
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
const COLON = 58;

/**
 * The event in `text` from `start` to `end` (its lines, without the blank line that ends it), its fields
 * read as the SDK reads them: the name before the first colon (a line without one is a field with an empty
 * value), one space after the colon dropped, `id:`, `retry:` and comments (`:`) ignored.
 */
function parseBlock(text: string, start: number, end: number): SseEvent | undefined {
  let name: string | undefined;
  let data: string | undefined;
  for (let line = start; line < end; ) {
    let lineEnd = text.indexOf('\n', line);
    if (lineEnd < 0 || lineEnd > end) lineEnd = end;
    if (isField(text, line, lineEnd, 'data')) {
      const value = fieldValue(text, line + 4, lineEnd);
      data = data === undefined ? value : `${data}\n${value}`;
    } else if (isField(text, line, lineEnd, 'event')) {
      name = fieldValue(text, line + 5, lineEnd);
    }
    line = lineEnd + 1;
  }
  return data === undefined ? undefined : { name, data };
}

/** Whether the line from `line` to `lineEnd` is field `field` (followed by a colon or by the line's end). */
function isField(text: string, line: number, lineEnd: number, field: string): boolean {
  const after = line + field.length;
  return text.startsWith(field, line) && (after === lineEnd || (after < lineEnd && text.charCodeAt(after) === COLON));
}

/** The value of a field whose name ends at `after` (its colon, or the line's end): one leading space dropped. */
function fieldValue(text: string, after: number, lineEnd: number): string {
  if (after >= lineEnd) return '';
  const from = text.charCodeAt(after + 1) === SPACE && after + 1 < lineEnd ? after + 2 : after + 1;
  return text.slice(from, lineEnd);
}
