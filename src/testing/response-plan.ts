/**
 * Turns one {@link Fault} (or the default success) for one received request into a transport-neutral
 * description of the response: what to send, in which order, with which pauses, and how the exchange
 * ends. The node:http fault server writes a plan to a socket (`./respond.ts`); the fault fetch turns
 * it into a `Response` with a `ReadableStream` body (`./fault-fetch.ts`). Both therefore answer a
 * script with the same statuses, headers, bodies, stream frames and failure points.
 *
 * Web-standard APIs only.
 *
 * @module
 */

import type { ReceivedRequest } from './received-request.js';
import type { ErrorFault, Fault, StreamOptions } from './fault-types.js';
import { errorBody } from './openai-bodies.js';
import { DEFAULT_RATE_LIMIT_HEADERS, byteLength, defaultJson, streamPlanFor, wantsStream } from './routes.js';
import { baseHeaders, jsonPlan, streamResponse, type ResponsePlan } from './plan-parts.js';
import { planBackground, type BackgroundStore } from './background-routes.js';

export { baseHeaders } from './plan-parts.js';
export type { BodyStep, ResponsePlan } from './plan-parts.js';

/** A streaming success, honouring the stall / drop / error / omitDone / keepOpen / interval options. */
function streamPlan(r: ReceivedRequest, seq: number, f: StreamOptions): ResponsePlan {
  const plan = streamPlanFor(r, seq, Math.max(0, Math.floor(f.chunks ?? 3)), f.words);
  return streamResponse(r, { ...plan, error: (afterChunks, afterEvents) => plan.error(f.error, afterChunks, f.errorFormat, afterEvents) }, f);
}

function errorPlan(r: ReceivedRequest, f: ErrorFault): ResponsePlan {
  const body =
    f.body !== undefined
      ? f.body
      : errorBody({
          message: f.message ?? `Simulated HTTP ${f.status} error.`,
          type: f.type ?? (f.status >= 500 ? 'server_error' : 'invalid_request_error'),
          param: f.param ?? null,
          code: f.code ?? null,
        });
  return jsonPlan(r, f.status, body, f.headers);
}

/**
 * The response to `fault` (or to the route's default success when `fault` is undefined) for request
 * number `seq` (used for `chatcmpl-<n>` / `resp_<n>` ids). Background responses (created, retrieved,
 * resumed and cancelled) live in `store`.
 */
export function planResponse(r: ReceivedRequest, fault: Fault | undefined, seq: number, store?: BackgroundStore): ResponsePlan {
  if (fault === undefined) fault = { kind: 'ok' };
  const background = store && planBackground(r, fault, seq, store);
  if (background) return background;
  switch (fault.kind) {
    case 'reset':
    case 'stall':
      return { kind: fault.kind };
    case 'delay':
      return { kind: 'delay', ms: fault.ms, then: fault.then };
    case 'partialBody': {
      const text = JSON.stringify(defaultJson(r, seq).body);
      return {
        kind: 'respond',
        status: 200,
        headers: { ...baseHeaders(r), 'content-type': 'application/json', 'content-length': String(byteLength(text)) },
        body: [{ kind: 'write', data: text.slice(0, Math.floor(text.length / 2)) }, { kind: fault.then === 'drop' ? 'drop' : 'hold' }],
        streaming: false,
      };
    }
    case 'error':
      return errorPlan(r, fault);
    case 'stream':
      return streamPlan(r, seq, fault);
    case 'ok': {
      if (fault.body === undefined && wantsStream(r)) return streamPlan(r, seq, fault.headers ? { headers: fault.headers } : {});
      const route = fault.body === undefined ? defaultJson(r, seq) : { status: 200, body: fault.body };
      const status = fault.status ?? route.status;
      return jsonPlan(r, status, route.body, { ...(status < 400 ? DEFAULT_RATE_LIMIT_HEADERS : {}), ...fault.headers });
    }
  }
}
