/** One server-sent event, as far as the stream guard needs it. */
export interface SseEvent {
  /** The `event:` name, if the server sent one (the Responses API does; Chat Completions does not). */
  readonly name: string | undefined;
  /** The `data:` lines joined. */
  readonly data: string;
}

/**
 * Splits a byte stream into server-sent events incrementally (events end with a blank line; `\n`,
 * `\r\n` and `\r` line endings). Comments (`: keep-alive`) and events without data are skipped.
 */
export class SseScanner {
  readonly #decoder = new TextDecoder();
  #buffer = '';

  /** The events completed by `bytes`. */
  push(bytes: Uint8Array): SseEvent[] {
    this.#buffer += this.#decoder.decode(bytes, { stream: true }).replace(/\r\n?/g, '\n');
    const events: SseEvent[] = [];
    for (let end = this.#buffer.indexOf('\n\n'); end >= 0; end = this.#buffer.indexOf('\n\n')) {
      const block = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      const event = parseBlock(block);
      if (event) events.push(event);
    }
    return events;
  }
}

function parseBlock(block: string): SseEvent | undefined {
  let name: string | undefined;
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) name = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
  }
  return data.length === 0 ? undefined : { name, data: data.join('\n') };
}

/**
 * Responses API events that say "started", not "producing": they do not commit a stream. A reasoning
 * model announces its reasoning item and then thinks in silence, so items and parts being added do not
 * count either; the first delta (text, reasoning summary, tool arguments...) does.
 */
const LIFECYCLE = new Set([
  'response.created', 'response.in_progress', 'response.queued', 'response.output_item.added', 'response.content_part.added',
]);
/** Events after which a stream is complete. */
const TERMINAL = new Set(['response.completed', 'response.failed', 'response.incomplete', 'error']);

export type EventRole = 'lifecycle' | 'content' | 'terminal' | 'error';

/** What an event means for the guard: still starting, producing, finished, or an error. */
export function roleOf(event: SseEvent): EventRole {
  if (event.data === '[DONE]') return 'terminal';
  const name = event.name ?? typeOf(event.data);
  if (name === 'error' || (event.name === undefined && event.data.startsWith('{"error"'))) return 'error';
  if (name !== undefined && TERMINAL.has(name)) return 'terminal';
  if (name !== undefined && LIFECYCLE.has(name)) return 'lifecycle';
  return 'content';
}

/** The `"type"` of a JSON payload, read cheaply from its start (Responses events lead with it). */
function typeOf(data: string): string | undefined {
  return /^\{\s*"type"\s*:\s*"([^"]+)"/.exec(data)?.[1];
}
