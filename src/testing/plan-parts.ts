/**
 * The vocabulary of response plans (what a transport sends, in which order, and how the exchange
 * ends) and the helpers that build them: base headers, a complete JSON answer, and the body of a
 * server-sent event stream cut, stalled or errored where a {@link StreamOptions} asks. Shared by the
 * default routes (`./response-plan.ts`) and the background responses (`./background-routes.ts`).
 *
 * Web-standard APIs only.
 *
 * @module
 */

import type { ReceivedRequest } from './received-request.js';
import type { Fault, StreamOptions } from './fault-types.js';
import { DEFAULT_RATE_LIMIT_HEADERS, byteLength } from './routes.js';

/** One step of a response body. */
export type BodyStep =
  /** Send this text. */
  | { kind: 'write'; data: string }
  /** Wait this many real milliseconds before the next step. */
  | { kind: 'wait'; ms: number }
  /** End the body normally (the last step). */
  | { kind: 'end' }
  /**
   * Send nothing more and keep the exchange open until the client aborts or the transport closes
   * (the last step); with `until`, end the body normally once it resolves.
   */
  | { kind: 'hold'; until?: Promise<void> }
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
export function jsonPlan(r: ReceivedRequest, status: number, body: unknown, headers: Record<string, string> = {}): ResponsePlan {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return {
    kind: 'respond',
    status,
    headers: { ...baseHeaders(r), 'content-type': 'application/json', 'content-length': String(byteLength(text)), ...headers },
    body: [{ kind: 'write', data: text }, { kind: 'end' }],
    streaming: false,
  };
}

/** The frames of one stream, by section, as a fault cuts them. */
export interface StreamFrames {
  /** Sent before the first content chunk, always. */
  preamble: readonly string[];
  /** One frame per content chunk: what `stallAfter`, `dropAfter` and `errorAfter` count. */
  content: readonly string[];
  /** After the content, before the terminator. */
  tail: readonly string[];
  /** `data: [DONE]` or `response.completed`; absent when the stream has none (a cancelled background response). */
  terminator?: string | undefined;
  /** The in-band error frame sent after `afterChunks` content chunks (`errorAfter`). */
  error(afterChunks: number): string;
  /** After the last frame, hold the exchange open until this resolves, then end (a paused background response). */
  endWhen?: Promise<void> | undefined;
}

/** A `200 text/event-stream` plan sending `frames` as the stream options ask. */
export function streamResponse(r: ReceivedRequest, frames: StreamFrames, f: StreamOptions): ResponsePlan {
  const headers = {
    ...baseHeaders(r),
    ...DEFAULT_RATE_LIMIT_HEADERS,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    ...f.headers,
  };
  return { kind: 'respond', status: 200, headers, body: streamBody(frames, f), streaming: true };
}

/** The body steps of a stream, honouring the stall / drop / error / omitDone / keepOpen / interval options. */
export function streamBody(frames: StreamFrames, f: StreamOptions): BodyStep[] {
  const chunks = frames.content.length;
  const body: BodyStep[] = [];
  if (f.stallBeforeFirstChunk) return [{ kind: 'hold' }]; // headers only
  for (const frame of frames.preamble) body.push({ kind: 'write', data: frame });

  const cut = (n: number | undefined): number | undefined =>
    n === undefined ? undefined : Math.min(Math.max(0, Math.floor(n)), chunks);
  const stallAt = cut(f.stallAfter);
  const dropAt = cut(f.dropAfter);
  const errorAt = cut(f.errorAfter);
  for (let i = 0; i <= chunks; i++) {
    if (i === stallAt) {
      body.push({ kind: 'hold' }); // silent, open
      return body;
    }
    if (i === dropAt) {
      body.push({ kind: 'drop' }); // no terminating chunk: the client sees a truncated body
      return body;
    }
    if (i === errorAt) {
      body.push({ kind: 'write', data: frames.error(i) });
      if (f.doneAfterError && frames.terminator !== undefined) body.push({ kind: 'write', data: frames.terminator });
      body.push({ kind: 'end' });
      return body;
    }
    if (i === chunks) break;
    if (i > 0 && f.intervalMs) body.push({ kind: 'wait', ms: f.intervalMs });
    body.push({ kind: 'write', data: frames.content[i]! });
  }
  for (const frame of frames.tail) body.push({ kind: 'write', data: frame });
  if (!f.omitDone && frames.terminator !== undefined) body.push({ kind: 'write', data: frames.terminator });
  if (f.keepOpen) body.push({ kind: 'hold' });
  else body.push(frames.endWhen ? { kind: 'hold', until: frames.endWhen } : { kind: 'end' });
  return body;
}
