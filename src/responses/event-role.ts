import { hasErrorMember } from '../classify/error-payload.js';
import type { SseEvent } from './sse-scanner.js';

/**
 * How the SDK reads a stream's events (its `__streamMode`): `legacy`, every stream but the Agents API's,
 * raises an `APIError` for an error event; `events` (openai 7's `beta.agents.sessions`) hands every event
 * over as data.
 */
export type StreamMode = 'legacy' | 'events';

/** The stream mode of a request's options, as the SDK reads it (`legacy` unless it says `events`). */
export function streamModeOf(options: { readonly [key: string]: unknown }): StreamMode {
  return options['__streamMode'] === 'events' ? 'events' : 'legacy';
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
export function roleOf(event: SseEvent, mode: StreamMode = 'legacy'): EventRole {
  if (event.data === '[DONE]') return 'terminal';
  const name = eventName(event);
  if (mode === 'legacy' && isErrorEvent(event, name)) return 'error';
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
  return event.name || typeOf(event.data);
}

const LEADING_TYPE = /^\{\s*"type"\s*:\s*"([^"]+)"/;
const OPEN_BRACE = 123;
const QUOTE = 34;

/**
 * The `"type"` of a JSON payload, read cheaply from its start (Responses events lead with it). A payload
 * that leads with another key (every chat chunk: `{"id":...`) is told apart by two character tests, without
 * the regular expression.
 */
function typeOf(data: string): string | undefined {
  if (data.charCodeAt(0) !== OPEN_BRACE) return undefined;
  if (data.charCodeAt(1) === QUOTE && !data.startsWith('"type"', 1)) return undefined;
  return LEADING_TYPE.exec(data)?.[1];
}

/**
 * Whether the SDK raises an `APIError` for this event (openai 7's `Stream.fromSSEResponse`, legacy mode),
 * `name` being its {@link eventName}:
 * - an event named `thread.*` (Assistants) never: it is handed over as `{ event, data }`;
 * - an event named `error` always;
 * - any other event whose JSON payload has a truthy `error` member (`data: {"error": ...}`, OpenRouter's
 *   mid-stream `{"id": ..., "choices": [...], "error": {...}}`, however it is spaced or escaped).
 * And one more: a Responses API `error` event sent without its `event:` line (`{"type": "error", ...}`),
 * which `responses.stream()` raises. openai 5 and 6 raise an `event: error` only when its payload has an
 * `error` member (the Responses API's `error` events are handed over as data); they count as errors here
 * with every version. The rest is the same.
 */
function isErrorEvent(event: SseEvent, name: string | undefined): boolean {
  if (event.name?.startsWith('thread.')) return false;
  if (name === 'error') return true;
  return hasErrorMember(event.data);
}
