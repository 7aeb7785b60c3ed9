import { SseScanner, type SseEvent } from '../../responses/sse-scanner.js';
import { EchoFilter } from './echo-filter.js';

/** What the caller's stream was before the seam: what the continuation's chunks are rewritten to. */
export interface Seam {
  /** The original completion's `id`: every continuation chunk gets it. */
  readonly id: string | undefined;
  /** The original `created`. */
  readonly created: number | undefined;
  /** The original `system_fingerprint`: set on continuation chunks that carry one. */
  readonly systemFingerprint: string | undefined;
  /** Completion tokens delivered before the seam (`deliveredTokens`), added to the continuation's usage. */
  readonly deliveredTokens: number;
  /** The partial answer the caller received: dropped if the continuation starts by repeating it (`EchoFilter`). */
  readonly text: string;
}

type Json = Record<string, unknown>;
const encoder = new TextEncoder();

/**
 * Rewrites a continuation's server-sent events so that the caller, who already received the start of the
 * answer, sees one stream:
 * - the continuation's opening chunks that carry nothing but the role (`delta: {role, content: ''}`) are
 *   dropped (the caller had its role chunk), and `delta.role` is removed from the others;
 * - each chunk's `id`, `created` and `system_fingerprint` become the original's (the SDK's
 *   `chat.completions.stream()` takes them from the last chunk: its `finalChatCompletion()` then
 *   describes the original completion; the model is left as the continuation says, a fallback's included);
 * - the usage chunk's `completion_tokens` (and `total_tokens`) add the tokens delivered before the seam:
 *   the answer's tokens, all of them. Its `prompt_tokens` stay the continuation's: the original prompt
 *   plus the partial answer, re-sent (the first request's usage never came: it comes last);
 * - a continuation that starts by repeating the whole partial answer (a provider that answers a prefix
 *   with the whole message) has that repetition dropped (`EchoFilter`);
 * - `[DONE]`, error events and anything that is not a chat chunk pass unchanged.
 *
 * `reader` yields whole events (each chunk ends at an event boundary); so does the returned reader, one
 * chunk per chunk read that still holds an event.
 */
export function spliceContinuation(reader: ReadableStreamDefaultReader<Uint8Array>, seam: Seam): ReadableStreamDefaultReader<Uint8Array> {
  const scanner = new SseScanner();
  const echo = new EchoFilter(seam.text);
  let opening = true;
  const frames = (chunks: Json[]) => chunks.map((chunk) => frame(undefined, JSON.stringify(chunk))).join('');
  const rewrite = (event: SseEvent): string => {
    const chunk = chatChunkOf(event);
    if (!chunk) return frames(echo.flush()) + frame(event.name, event.data);
    if (opening && isRoleOnly(chunk)) return '';
    opening = false;
    if (seam.id !== undefined) chunk['id'] = seam.id;
    if (seam.created !== undefined) chunk['created'] = seam.created;
    if (seam.systemFingerprint !== undefined && typeof chunk['system_fingerprint'] === 'string') chunk['system_fingerprint'] = seam.systemFingerprint;
    for (const choice of chunk['choices'] as unknown[]) {
      const delta = isObject(choice) ? choice['delta'] : undefined;
      if (isObject(delta)) delete delta['role'];
    }
    addDelivered(chunk['usage'], seam.deliveredTokens);
    return frames(echo.take(chunk));
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          const next = await reader.read();
          if (next.done) {
            const held = frames(echo.flush());
            if (held !== '') controller.enqueue(encoder.encode(held));
            controller.close();
            return;
          }
          let text = '';
          for (const event of scanner.push(next.value)) text += rewrite(event);
          if (text !== '') {
            controller.enqueue(encoder.encode(text));
            return;
          }
        }
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  ).getReader();
}

/** The event's chat chunk (an object with `choices`), parsed; `undefined` for anything else. */
function chatChunkOf(event: SseEvent): Json | undefined {
  if (event.name !== undefined || event.data === '[DONE]') return undefined;
  let payload: unknown;
  try {
    payload = JSON.parse(event.data);
  } catch {
    return undefined;
  }
  return isObject(payload) && Array.isArray(payload['choices']) ? payload : undefined;
}

/** A chunk that opens a message and says nothing else: role, empty content, no refusal, no finish. */
function isRoleOnly(chunk: Json): boolean {
  const choices = chunk['choices'] as unknown[];
  if (choices.length === 0 || isObject(chunk['usage'])) return false;
  return choices.every((choice) => {
    if (!isObject(choice) || (choice['finish_reason'] !== null && choice['finish_reason'] !== undefined)) return false;
    const delta = choice['delta'];
    if (!isObject(delta)) return false;
    return Object.entries(delta).every(([key, value]) => key === 'role' || value === null || value === '' || (Array.isArray(value) && value.length === 0));
  });
}

function addDelivered(usage: unknown, delivered: number): void {
  if (!isObject(usage) || typeof usage['completion_tokens'] !== 'number') return;
  usage['completion_tokens'] += delivered;
  if (typeof usage['total_tokens'] === 'number') usage['total_tokens'] += delivered;
}

/** One event as text (a `data:` line for each line of `data`). */
function frame(name: string | undefined, data: string): string {
  const lines = data.includes('\n') ? data.split('\n').map((line) => `data: ${line}`).join('\n') : `data: ${data}`;
  return `${name === undefined ? '' : `event: ${name}\n`}${lines}\n\n`;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null;
}
