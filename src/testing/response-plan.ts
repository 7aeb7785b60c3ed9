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

/** One step of a response body. */
export type BodyStep =
  /** Send this text. */
  | { kind: 'write'; data: string }
  /** Wait this many real milliseconds before the next step. */
  | { kind: 'wait'; ms: number }
  /** End the body normally (the last step). */
  | { kind: 'end' }
  /** Send nothing more and keep the exchange open until the client aborts or the transport closes (the last step). */
  | { kind: 'hold' }
  /** Cut the connection: the body ends abruptly without its terminator (the last step). */
  | { kind: 'drop' };

/** What a transport does with one request. */
export type ResponsePlan =
  /** Cut the connection before any response: the client sees a connection error. */
  | { kind: 'reset' }
  /** Never answer; the exchange stays open until the client aborts or the transport closes. */
  | { kind: 'stall' }
  /** Wait `ms` real milliseconds, then plan `then` (planned at that moment, so headers such as `openai-processing-ms` are current). */
  | { kind: 'delay'; ms: number; then: Fault }
  /** Send the status and headers, then run the body steps in order. */
  | { kind: 'respond'; status: number; headers: Record<string, string>; body: BodyStep[]; streaming: boolean };

/** Headers every response of the fault server carries. */
export function baseHeaders(r: ReceivedRequest): Record<string, string> {
  return {
    'x-request-id': r.requestId,
    'openai-processing-ms': String(Math.max(1, Date.now() - r.receivedAt)),
    'openai-version': '2020-10-01',
    'openai-organization': 'org-xxx',
  };
}

/** A complete JSON (or verbatim string) response. */
function jsonPlan(r: ReceivedRequest, status: number, body: unknown, headers: Record<string, string> = {}): ResponsePlan {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return {
    kind: 'respond',
    status,
    headers: { ...baseHeaders(r), 'content-type': 'application/json', 'content-length': String(byteLength(text)), ...headers },
    body: [{ kind: 'write', data: text }, { kind: 'end' }],
    streaming: false,
  };
}

/** A streaming success, honouring the stall / drop / error / omitDone / keepOpen / interval options. */
function streamPlan(r: ReceivedRequest, seq: number, f: StreamOptions): ResponsePlan {
  const chunks = Math.max(0, Math.floor(f.chunks ?? 3));
  const plan = streamPlanFor(r, seq, chunks);
  const headers = {
    ...baseHeaders(r),
    ...DEFAULT_RATE_LIMIT_HEADERS,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    ...f.headers,
  };
  const body: BodyStep[] = [];
  const done = (): ResponsePlan => ({ kind: 'respond', status: 200, headers, body, streaming: true });
  if (f.stallBeforeFirstChunk) {
    body.push({ kind: 'hold' }); // headers only
    return done();
  }
  for (const frame of plan.preamble) body.push({ kind: 'write', data: frame });

  const cut = (n: number | undefined): number | undefined =>
    n === undefined ? undefined : Math.min(Math.max(0, Math.floor(n)), chunks);
  const stallAt = cut(f.stallAfter);
  const dropAt = cut(f.dropAfter);
  const errorAt = cut(f.errorAfter);
  for (let i = 0; i <= chunks; i++) {
    if (i === stallAt) {
      body.push({ kind: 'hold' }); // silent, open
      return done();
    }
    if (i === dropAt) {
      body.push({ kind: 'drop' }); // no terminating chunk: the client sees a truncated body
      return done();
    }
    if (i === errorAt) {
      body.push({ kind: 'write', data: plan.error(f.error, i, f.errorFormat) });
      if (f.doneAfterError) body.push({ kind: 'write', data: plan.terminator });
      body.push({ kind: 'end' });
      return done();
    }
    if (i === chunks) break;
    if (i > 0 && f.intervalMs) body.push({ kind: 'wait', ms: f.intervalMs });
    body.push({ kind: 'write', data: plan.content[i]! });
  }
  for (const frame of plan.tail) body.push({ kind: 'write', data: frame });
  if (!f.omitDone) body.push({ kind: 'write', data: plan.terminator });
  body.push({ kind: f.keepOpen ? 'hold' : 'end' });
  return done();
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
 * number `seq` (used for `chatcmpl-<n>` / `resp_<n>` ids).
 */
export function planResponse(r: ReceivedRequest, fault: Fault | undefined, seq: number): ResponsePlan {
  if (fault === undefined) fault = { kind: 'ok' };
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
