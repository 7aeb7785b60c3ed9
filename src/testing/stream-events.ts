/**
 * Server-sent event frames for streaming successes: Chat Completions chunks and Responses API events.
 *
 * @module
 */

import { chatUsage, nowSeconds, responseMessageItem, responseObject } from './openai-bodies.js';
import type { StreamErrorPayload } from './fault-types.js';

/** The frames of one stream, split so a fault can cut it at any content chunk. */
export interface StreamPlan {
  /** Frames sent before the first content chunk. */
  preamble: string[];
  /** One frame per content chunk. */
  content: string[];
  /** Frames after the content, before the terminator (finish chunk, usage, `*.done` events). */
  tail: string[];
  /** The terminator: `data: [DONE]` or `response.completed`. */
  terminator: string;
  /**
   * The in-band error frame sent after `afterChunks` content chunks: `data: {"error":{...}}` for chat
   * (in `openrouter` format, a chunk with `choices` and `error`), an `event: error` Responses event
   * (`{type:'error', code, message, param}`) for responses, whose `sequence_number` is the next one:
   * `afterEvents` when given (the frames sent before it), else the preamble's length plus `afterChunks`.
   */
  error(payload: StreamErrorPayload | undefined, afterChunks: number, format?: 'openai' | 'openrouter', afterEvents?: number): string;
}

/** Inputs of the stream plan builders. */
export interface StreamPlanInit {
  id: string;
  model: string;
  /** Number of content chunks. */
  chunks: number;
  promptTokens?: number;
  /** Chat only: emit the final usage chunk (`stream_options.include_usage`). */
  includeUsage?: boolean;
  /** The text deltas, instead of {@link contentDeltas} of `chunks`. */
  deltas?: string[];
}

const DEFAULT_STREAM_ERROR = {
  message: 'The server had an error while processing your request. Sorry about that!',
  type: 'server_error',
  code: 'server_error',
  param: null,
};

/** The text deltas: `Hello`, ` world`, `!`, then ` more` for every extra chunk. */
export function contentDeltas(chunks: number): string[] {
  const base = ['Hello', ' world', '!'];
  return Array.from({ length: Math.max(0, chunks) }, (_, i) => base[i] ?? ' more');
}

/** Formats one SSE frame (`event:` line only when `event` is given). */
export function sseFrame(data: unknown, event?: string): string {
  const payload = typeof data === 'string' ? data : JSON.stringify(data);
  return `${event ? `event: ${event}\n` : ''}data: ${payload}\n\n`;
}

/** Chat Completions stream: role chunk, content deltas, finish chunk, optional usage chunk, `[DONE]`. */
export function chatStreamPlan(init: StreamPlanInit): StreamPlan {
  const created = nowSeconds();
  const usageField = init.includeUsage ? { usage: null } : {};
  const chunk = (delta: Record<string, unknown>, finish: string | null): string =>
    sseFrame({
      id: init.id,
      object: 'chat.completion.chunk',
      created,
      model: init.model,
      service_tier: 'default',
      system_fingerprint: 'fp_fault_server',
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...usageField,
    });
  const deltas = init.deltas ?? contentDeltas(init.chunks);
  const tail = [chunk({}, 'stop')];
  if (init.includeUsage) {
    tail.push(
      sseFrame({
        id: init.id,
        object: 'chat.completion.chunk',
        created,
        model: init.model,
        service_tier: 'default',
        system_fingerprint: 'fp_fault_server',
        choices: [],
        usage: chatUsage(init.promptTokens ?? 10, deltas.length),
      }),
    );
  }
  return {
    preamble: [chunk({ role: 'assistant', content: '', refusal: null }, null)],
    content: deltas.map((d) => chunk({ content: d }, null)),
    tail,
    terminator: sseFrame('[DONE]'),
    error: (payload, _afterChunks, format) => {
      const error = { ...DEFAULT_STREAM_ERROR, ...payload };
      if (format !== 'openrouter') return sseFrame({ error });
      return sseFrame({
        id: init.id,
        object: 'chat.completion.chunk',
        created,
        model: init.model,
        provider: 'fault-server',
        error: { code: error.code, message: error.message },
        choices: [{ index: 0, delta: { content: '' }, finish_reason: 'error', native_finish_reason: 'error' }],
      });
    },
  };
}

/** Responses API stream: `response.created` ... `response.output_text.delta` ... `response.completed`. */
export function responsesStreamPlan(init: StreamPlanInit): StreamPlan {
  const deltas = init.deltas ?? contentDeltas(init.chunks);
  const text = deltas.join('');
  const itemId = `msg_${init.id.replace(/^resp_/, '')}`;
  const base = { id: init.id, model: init.model, promptTokens: init.promptTokens, content: text };
  const inProgress = responseObject({ ...base, status: 'in_progress' });
  const completed = responseObject({ ...base, completionTokens: deltas.length });
  const part = (t: string) => ({ type: 'output_text', text: t, annotations: [], logprobs: [] });
  const loc = { item_id: itemId, output_index: 0, content_index: 0 };
  let seq = 0;
  const ev = (type: string, fields: Record<string, unknown>): string =>
    sseFrame({ type, sequence_number: seq++, ...fields }, type);

  const preamble = [
    ev('response.created', { response: inProgress }),
    ev('response.in_progress', { response: inProgress }),
    ev('response.output_item.added', { output_index: 0, item: responseMessageItem(itemId, '', 'in_progress') }),
    ev('response.content_part.added', { ...loc, part: part('') }),
  ];
  const content = deltas.map((delta) => ev('response.output_text.delta', { ...loc, delta, logprobs: [] }));
  const tail = [
    ev('response.output_text.done', { ...loc, text, logprobs: [] }),
    ev('response.content_part.done', { ...loc, part: part(text) }),
    ev('response.output_item.done', { output_index: 0, item: responseMessageItem(itemId, text) }),
  ];
  const terminator = ev('response.completed', { response: completed });
  return {
    preamble,
    content,
    tail,
    terminator,
    error: (payload, afterChunks, _format, afterEvents) =>
      sseFrame(
        {
          type: 'error',
          code: payload?.code !== undefined ? payload.code : DEFAULT_STREAM_ERROR.code,
          message: payload?.message ?? DEFAULT_STREAM_ERROR.message,
          param: payload?.param ?? null,
          sequence_number: afterEvents ?? preamble.length + afterChunks,
        },
        'error',
      ),
  };
}
