/**
 * Default (unscripted) responses of the fault server, per OpenAI route.
 *
 * @module
 */

import { safeDecode, type ReceivedRequest } from './received-request.js';
import {
  MODEL_IDS,
  batchObject,
  chatCompletion,
  embeddingList,
  errorBody,
  estimateTokens,
  fileObject,
  fineTuningJobObject,
  modelObject,
  responseObject,
  vectorStoreFileObject,
} from './openai-bodies.js';
import { chatStreamPlan, contentDeltas, responsesStreamPlan, type StreamPlan } from './stream-events.js';
import { continuedPrefix, numberedDeltas, restOfAnswer } from './chat-continuation.js';

/** A JSON response chosen by a default route. */
export interface RouteResult {
  status: number;
  body: unknown;
}

/** Rate-limit headers the default successes carry (a healthy, mostly unused quota). */
export const DEFAULT_RATE_LIMIT_HEADERS: Readonly<Record<string, string>> = {
  'x-ratelimit-limit-requests': '500',
  'x-ratelimit-remaining-requests': '499',
  'x-ratelimit-reset-requests': '120ms',
  'x-ratelimit-limit-tokens': '200000',
  'x-ratelimit-remaining-tokens': '199000',
  'x-ratelimit-reset-tokens': '300ms',
};

const PAGED = {
  '/files': ['file-', fileObject],
  '/fine_tuning/jobs': ['ftjob-', fineTuningJobObject],
  '/batches': ['batch_', batchObject],
} as const;

/** The fixed five items of a paginated collection (`file-1`..`file-5`, `ftjob-1`.., `batch_1`..). */
export function pagedItems(collection: keyof typeof PAGED): Array<Record<string, unknown> & { id: string }> {
  const [prefix, make] = PAGED[collection];
  return Array.from({ length: 5 }, (_, i) => {
    const id = `${prefix}${i + 1}`;
    return { ...make(id), id };
  });
}

/** A cursor page (`{object:'list', data, has_more, first_id, last_id}`) honouring `limit` and `after`. */
export function cursorPage<T extends { id: string }>(
  items: readonly T[],
  query: { limit?: string; after?: string },
): Record<string, unknown> {
  const parsed = Number.parseInt(query.limit ?? '', 10);
  const limit = Number.isFinite(parsed) && parsed > 0 ? Math.min(parsed, 100) : 20;
  const start = query.after === undefined ? 0 : items.findIndex((i) => i.id === query.after) + 1;
  // An unknown cursor yields an empty page rather than restarting (which could loop forever).
  const rest = query.after !== undefined && start === 0 ? [] : items.slice(start);
  const data = rest.slice(0, limit);
  return {
    object: 'list',
    data,
    has_more: rest.length > limit,
    first_id: data[0]?.id ?? null,
    last_id: data[data.length - 1]?.id ?? null,
  };
}

function bodyObject(r: ReceivedRequest): Record<string, unknown> {
  return r.body !== null && typeof r.body === 'object' ? (r.body as Record<string, unknown>) : {};
}

function modelOf(r: ReceivedRequest, fallback = 'gpt-4o'): string {
  const model = bodyObject(r)['model'];
  return typeof model === 'string' ? model : fallback;
}

/** Which streaming format a path uses, or `null` for routes that never stream. */
export function streamKindFor(path: string): 'chat' | 'responses' | null {
  if (path === '/chat/completions') return 'chat';
  if (path === '/responses') return 'responses';
  return null;
}

/** Whether the request asks for a stream (`stream: true`) on a streaming route. */
export function wantsStream(r: ReceivedRequest): boolean {
  return bodyObject(r)['stream'] === true && streamKindFor(r.path) !== null;
}

/**
 * The stream frames for a request (Responses events on `/responses`, chat chunks elsewhere): an answer of
 * `chunks` deltas, `words` as `StreamOptions.words` says. A chat request continuing a partial answer
 * (`continuedPrefix`) gets the rest of that answer after it.
 */
export function streamPlanFor(r: ReceivedRequest, seq: number, chunks: number, words: 'default' | 'numbered' = 'default'): StreamPlan {
  const body = bodyObject(r);
  const answer = words === 'numbered' ? numberedDeltas(chunks) : contentDeltas(chunks);
  if (streamKindFor(r.path) === 'responses') {
    return responsesStreamPlan({ id: `resp_${seq}`, model: modelOf(r), chunks, deltas: answer, promptTokens: estimateTokens(body['input'] ?? '') });
  }
  const deltas = restOfAnswer(answer, continuedPrefix(body));
  const streamOptions = body['stream_options'] as { include_usage?: unknown } | undefined;
  return chatStreamPlan({
    id: `chatcmpl-${seq}`,
    model: modelOf(r),
    chunks: deltas.length,
    deltas,
    promptTokens: estimateTokens(body['messages'] ?? ''),
    includeUsage: streamOptions?.include_usage === true,
  });
}

function embeddingCount(input: unknown): number {
  if (!Array.isArray(input)) return 1;
  if (input.length === 0) return 0;
  return typeof input[0] === 'number' ? 1 : input.length;
}

const encoder = new TextEncoder();

/** UTF-8 length of `text` in bytes (web-standard; no `Buffer`). */
export function byteLength(text: string): number {
  return encoder.encode(text).byteLength;
}

/** Extracts `purpose` and the file name from a raw multipart body. */
function multipartFields(raw: unknown): { filename?: string; purpose?: string; bytes?: number } {
  if (typeof raw !== 'string') return {};
  const purpose = /name="purpose"\r?\n\r?\n([^\r\n]*)/.exec(raw)?.[1];
  const filename = /filename="([^"]*)"/.exec(raw)?.[1];
  return { ...(purpose ? { purpose } : {}), ...(filename ? { filename } : {}), bytes: byteLength(raw) };
}

/** 404 for any route the server does not know, like OpenAI's `Invalid URL` error. */
export function unknownRoute(r: ReceivedRequest): RouteResult {
  return {
    status: 404,
    body: errorBody({
      message: `Invalid URL (${r.method} ${r.rawPath.split('?')[0]})`,
      type: 'invalid_request_error',
      code: 'unknown_url',
    }),
  };
}

/** The default JSON success for a request (or a 404 `unknown_url` error). */
export function defaultJson(r: ReceivedRequest, seq: number): RouteResult {
  const { method, path } = r;
  const body = bodyObject(r);
  const ok = (b: unknown): RouteResult => ({ status: 200, body: b });
  const seg = path.split('/').slice(1).map(safeDecode);

  if (method === 'POST' && path === '/chat/completions') {
    return ok(chatCompletion({ id: `chatcmpl-${seq}`, model: modelOf(r), promptTokens: estimateTokens(body['messages'] ?? '') }));
  }
  if (method === 'POST' && path === '/responses') {
    return ok(responseObject({ id: `resp_${seq}`, model: modelOf(r), promptTokens: estimateTokens(body['input'] ?? '') }));
  }
  if (method === 'POST' && path === '/embeddings') {
    const dimensions = typeof body['dimensions'] === 'number' ? Math.min(body['dimensions'], 64) : undefined;
    return ok(
      embeddingList(embeddingCount(body['input']), modelOf(r, 'text-embedding-3-small'), {
        base64: body['encoding_format'] === 'base64',
        promptTokens: estimateTokens(body['input'] ?? ''),
        ...(dimensions ? { dimensions } : {}),
      }),
    );
  }
  if (method === 'GET' && path === '/models') return ok({ object: 'list', data: MODEL_IDS.map(modelObject) });
  if (method === 'GET' && seg[0] === 'models' && seg.length === 2) return ok(modelObject(seg[1]!));
  if (method === 'GET' && (path === '/files' || path === '/fine_tuning/jobs' || path === '/batches')) {
    return ok(cursorPage(pagedItems(path), r.query));
  }
  if (method === 'POST' && path === '/files') return ok(fileObject(`file-${seq}`, multipartFields(r.body)));
  if (seg[0] === 'files' && seg.length === 2) {
    if (method === 'GET') return ok(fileObject(seg[1]!));
    if (method === 'DELETE') return ok({ id: seg[1], object: 'file', deleted: true });
  }
  if (method === 'GET' && path.startsWith('/fine_tuning/jobs/') && seg.length === 3) return ok(fineTuningJobObject(seg[2]!));
  if (method === 'GET' && seg[0] === 'batches' && seg.length === 2) return ok(batchObject(seg[1]!));
  if (seg[0] === 'vector_stores' && seg[2] === 'files') {
    if (method === 'POST' && seg.length === 3) {
      const fileId = typeof body['file_id'] === 'string' ? body['file_id'] : `file-${seq}`;
      return ok(vectorStoreFileObject(seg[1]!, fileId, 'in_progress'));
    }
    if (method === 'GET' && seg.length === 4) return ok(vectorStoreFileObject(seg[1]!, seg[3]!, 'completed'));
  }
  return unknownRoute(r);
}
