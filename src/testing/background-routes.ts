/**
 * Background responses, as the Responses API serves them
 * (https://developers.openai.com/api/docs/guides/background):
 *
 * - `POST /responses` with `background: true` creates and stores a response (rejected with a 400 when
 *   `store` is `false`: "Background sampling requires `store=true`"); with `stream: true` it streams
 *   the response's events, each with a `sequence_number`, else it answers the response object
 *   (status `queued`);
 * - `GET /responses/{id}` answers the response object with its current status; with `stream=true` it
 *   streams the stored events again, those after `starting_after` when given (only for a response
 *   created with `stream: true`);
 * - `POST /responses/{id}/cancel` cancels a queued or in-progress response (status `cancelled`;
 *   cancelling twice answers the same object);
 * - an unknown id gets a 404.
 *
 * A scripted `faults.stream(...)` disturbs the one connection it answers (the creating stream or a
 * resume); its `background` option decides how the stored response itself ends.
 *
 * @module
 */

import type { ReceivedRequest } from './received-request.js';
import { safeDecode } from './received-request.js';
import type { Fault, StreamOptions } from './fault-types.js';
import { errorBody, estimateTokens } from './openai-bodies.js';
import { DEFAULT_RATE_LIMIT_HEADERS } from './routes.js';
import { sseFrame } from './stream-events.js';
import { generateBackground, type BackgroundEvent } from './background-events.js';
import type { BackgroundStore, StoredBackground } from './background-store.js';
import { jsonPlan, streamResponse, type ResponsePlan } from './plan-parts.js';

export type { BackgroundStore } from './background-store.js';

const DEFAULT_STREAM_ERROR = { message: 'The server had an error while processing your request. Sorry about that!', code: 'server_error' };

function invalid(r: ReceivedRequest, message: string, param: string | null): ResponsePlan {
  return jsonPlan(r, 400, errorBody({ message, type: 'invalid_request_error', param, code: null }));
}

function notFound(r: ReceivedRequest, id: string): ResponsePlan {
  return jsonPlan(r, 404, errorBody({ message: `Response with id '${id}' not found.`, type: 'invalid_request_error', param: null, code: null }));
}

/** A stream of `stored`'s events after `startingAfter`, disturbed as `f` asks. */
function replay(r: ReceivedRequest, stored: StoredBackground, startingAfter: number, f: StreamOptions): ResponsePlan {
  const events = stored.events.filter((e) => e.seq > startingAfter);
  const section = (s: BackgroundEvent['section']) => events.filter((e) => e.section === s);
  const frames = (list: BackgroundEvent[]) => list.map((e) => e.frame);
  return streamResponse(
    r,
    {
      preamble: frames(section('preamble')),
      content: frames(section('content')),
      tail: frames(section('tail')),
      terminator: section('terminator')[0]?.frame,
      // An in-band error is no event of the response: it repeats the last sequence number sent (on a
      // stream that sent none, the one it started after), so a cursor taken from it misses nothing.
      error: (_afterChunks, afterEvents) =>
        sseFrame(
          {
            type: 'error',
            code: f.error?.code !== undefined ? f.error.code : DEFAULT_STREAM_ERROR.code,
            message: f.error?.message ?? DEFAULT_STREAM_ERROR.message,
            param: f.error?.param ?? null,
            sequence_number: events[afterEvents - 1]?.seq ?? startingAfter,
          },
          'error',
        ),
      endWhen: stored.status === 'in_progress' || stored.status === 'queued' ? stored.settled : undefined,
    },
    f,
  );
}

function bodyObject(r: ReceivedRequest): Record<string, unknown> {
  return r.body !== null && typeof r.body === 'object' ? (r.body as Record<string, unknown>) : {};
}

/**
 * The plan of a background-response request answered with `fault` (a default success or a
 * `faults.stream(...)`), or `undefined` when the request is not one (or the fault is another kind).
 */
export function planBackground(r: ReceivedRequest, fault: Fault, seq: number, store: BackgroundStore): ResponsePlan | undefined {
  if (fault.kind !== 'stream' && !(fault.kind === 'ok' && fault.body === undefined)) return undefined;
  const options: StreamOptions = fault.kind === 'stream' ? fault : fault.headers ? { headers: fault.headers } : {};
  const seg = r.path.split('/').slice(1).map(safeDecode);
  if (seg[0] !== 'responses') return undefined;
  const body = bodyObject(r);
  const successHeaders = { ...DEFAULT_RATE_LIMIT_HEADERS, ...options.headers };

  if (r.method === 'POST' && seg.length === 1 && body['background'] === true) {
    if (body['store'] === false) return invalid(r, 'Background mode requires store=true.', 'store');
    const id = `resp_${seq}`;
    const stored = store.add(
      id,
      body['stream'] === true,
      generateBackground({
        id,
        model: typeof body['model'] === 'string' ? body['model'] : 'gpt-4o',
        chunks: Math.max(0, Math.floor(options.chunks ?? 3)),
        promptTokens: estimateTokens(body['input'] ?? ''),
        ...(options.background ? { options: options.background } : {}),
      }),
    );
    if (stored.stream) return replay(r, stored, -1, options);
    return jsonPlan(r, 200, stored.created, successHeaders);
  }

  const id = seg[1];
  if (id === undefined) return undefined;
  const get = r.method === 'GET' && seg.length === 2;
  const cancel = r.method === 'POST' && seg.length === 3 && seg[2] === 'cancel';
  if (!get && !cancel) return undefined;
  const stored = store.get(id);
  if (!stored) return notFound(r, id);

  if (cancel) {
    if (!stored.cancel()) return invalid(r, `Cannot cancel a response in terminal state (${stored.status}).`, null);
    return jsonPlan(r, 200, stored.response, successHeaders);
  }
  if (r.query['stream'] !== 'true') return jsonPlan(r, 200, stored.response, successHeaders);
  if (!stored.stream) return invalid(r, 'This response cannot be streamed because it was not created with stream=true.', 'stream');
  const raw = r.query['starting_after'];
  const startingAfter = raw === undefined ? -1 : Number(raw);
  if (!Number.isInteger(startingAfter) || startingAfter < -1) {
    return invalid(r, `Invalid 'starting_after': expected an integer sequence number, got '${raw ?? ''}'.`, 'starting_after');
  }
  return replay(r, stored, startingAfter, options);
}
