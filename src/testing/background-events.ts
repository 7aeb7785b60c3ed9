/**
 * The events of a background response (`background: true`), generated at once and stored so that any
 * stream of it (the creating request's, or a resume from a sequence number) replays the same frames.
 *
 * As the API streams a background response: `response.created` (status `queued`), `response.queued`,
 * `response.in_progress`, the message's `output_item.added` / `content_part.added`, one
 * `response.output_text.delta` per content chunk, the `*.done` events and `response.completed`; every
 * event carries a `sequence_number` counting from 0.
 *
 * @module
 */

import type { BackgroundOptions } from './fault-types.js';
import { contentDeltas, sseFrame } from './stream-events.js';
import { nowSeconds, responseMessageItem, responseObject } from './openai-bodies.js';

/** Where an event sits in the stream, as the stream faults cut it. */
export type BackgroundSection = 'preamble' | 'content' | 'tail' | 'terminator';

/** One stored event. */
export interface BackgroundEvent {
  /** Its `sequence_number`. */
  seq: number;
  section: BackgroundSection;
  /** The SSE frame (`event:` and `data:` lines). */
  frame: string;
}

/** The status of a background response (`Response['status']`). */
export type BackgroundStatus = 'queued' | 'in_progress' | 'completed' | 'failed' | 'cancelled';

/** A generated background response: its events and the object `GET /responses/{id}` answers. */
export interface GeneratedBackground {
  events: BackgroundEvent[];
  /** Status once generation stops: `completed`, `failed`, `cancelled`, or `in_progress` when paused. */
  status: BackgroundStatus;
  /** The response object at that point. */
  response: Record<string, unknown>;
  /** The response object as created (status `queued`): the answer of a non-streaming `POST /responses`. */
  created: Record<string, unknown>;
}

/** Inputs of {@link generateBackground}. */
export interface BackgroundInit {
  id: string;
  model: string;
  /** Content chunks of a completed response. */
  chunks: number;
  promptTokens?: number;
  options?: BackgroundOptions;
}

const DEFAULT_ERROR = { code: 'server_error', message: 'The server had an error while processing your request. Sorry about that!' };

/** Generates the events of a background response, stopping where `options.outcome` says. */
export function generateBackground(init: BackgroundInit): GeneratedBackground {
  const outcome = init.options?.outcome ?? 'completed';
  const deltas = contentDeltas(init.chunks);
  const generated = outcome === 'completed' ? deltas.length : Math.min(Math.max(0, Math.floor(init.options?.after ?? 0)), deltas.length);
  const text = deltas.slice(0, generated).join('');
  const itemId = `msg_${init.id.replace(/^resp_/, '')}`;
  const createdAt = nowSeconds();
  const object = (status: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    ...responseObject({ id: init.id, model: init.model, promptTokens: init.promptTokens, content: text, completionTokens: generated, status }),
    created_at: createdAt,
    background: true,
    ...extra,
  });
  const partialItem = (status: string): Record<string, unknown> => ({
    ...responseMessageItem(itemId, '', status),
    content: [{ type: 'output_text', text, annotations: [], logprobs: [] }],
  });
  const part = (t: string) => ({ type: 'output_text', text: t, annotations: [], logprobs: [] });
  const loc = { item_id: itemId, output_index: 0, content_index: 0 };
  const events: BackgroundEvent[] = [];
  const ev = (section: BackgroundSection, type: string, fields: Record<string, unknown>): void => {
    const seq = events.length;
    events.push({ seq, section, frame: sseFrame({ type, sequence_number: seq, ...fields }, type) });
  };

  const queued = object('queued');
  ev('preamble', 'response.created', { response: queued });
  ev('preamble', 'response.queued', { response: queued });
  ev('preamble', 'response.in_progress', { response: object('in_progress') });
  ev('preamble', 'response.output_item.added', { output_index: 0, item: responseMessageItem(itemId, '', 'in_progress') });
  ev('preamble', 'response.content_part.added', { ...loc, part: part('') });
  for (const delta of deltas.slice(0, generated)) ev('content', 'response.output_text.delta', { ...loc, delta, logprobs: [] });

  switch (outcome) {
    case 'completed': {
      ev('tail', 'response.output_text.done', { ...loc, text, logprobs: [] });
      ev('tail', 'response.content_part.done', { ...loc, part: part(text) });
      ev('tail', 'response.output_item.done', { output_index: 0, item: responseMessageItem(itemId, text) });
      const response = object('completed');
      ev('terminator', 'response.completed', { response });
      return { events, status: 'completed', response, created: queued };
    }
    case 'failed': {
      const error = { ...DEFAULT_ERROR, ...init.options?.error };
      const response = object('failed', { error, output: [partialItem('incomplete')], usage: null });
      ev('terminator', 'response.failed', { response });
      return { events, status: 'failed', response, created: queued };
    }
    case 'cancelled':
      return { events, status: 'cancelled', response: cancelledObject(object('cancelled', { output: [partialItem('incomplete')] })), created: queued };
    case 'paused':
      return { events, status: 'in_progress', response: object('in_progress', { output: [partialItem('in_progress')] }), created: queued };
  }
}

/** The response object of a cancelled response (from the one it had): status `cancelled`, no usage. */
export function cancelledObject(response: Record<string, unknown>): Record<string, unknown> {
  const output = Array.isArray(response['output'])
    ? (response['output'] as Array<Record<string, unknown>>).map((item) => ({ ...item, status: 'incomplete' }))
    : [];
  return { ...response, status: 'cancelled', output, usage: null };
}
