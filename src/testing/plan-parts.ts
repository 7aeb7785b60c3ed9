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
  /** The in-band error frame sent after `afterChunks` content chunks, `afterEvents` frames in all (`errorAfter`, `errorAfterEvents`). */
  error(afterChunks: number, afterEvents: number): string;
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

/** How a stream is disturbed at a cut point. */
type Cut = 'stall' | 'drop' | 'error';

/**
 * The body steps of a stream, honouring the stall / drop / error (after content chunks or after events),
 * omitDone / keepOpen / interval options.
 */
export function streamBody(frames: StreamFrames, f: StreamOptions): BodyStep[] {
  if (f.stallBeforeFirstChunk) return [{ kind: 'hold' }]; // headers only
  const items: Array<{ data: string; content?: number }> = [
    ...frames.preamble.map((data) => ({ data })),
    ...frames.content.map((data, i) => ({ data, content: i })),
    ...frames.tail.map((data) => ({ data })),
    ...(!f.omitDone && frames.terminator !== undefined ? [{ data: frames.terminator }] : []),
  ];
  const clamp = (n: number, max: number): number => Math.min(Math.max(0, Math.floor(n)), max);
  // A cut after `n` content chunks sits before the n-th chunk (or after the last one, before the tail);
  // a cut after `n` events before the n-th frame sent. The earliest cut wins; at a tie, stall, drop, error.
  const atChunk = (n: number | undefined): number => (n === undefined ? Infinity : frames.preamble.length + clamp(n, frames.content.length));
  const atEvent = (n: number | undefined): number => (n === undefined ? Infinity : clamp(n, items.length));
  const cuts: Array<[Cut, number]> = [
    ['stall', Math.min(atChunk(f.stallAfter), atEvent(f.stallAfterEvents))],
    ['drop', Math.min(atChunk(f.dropAfter), atEvent(f.dropAfterEvents))],
    ['error', Math.min(atChunk(f.errorAfter), atEvent(f.errorAfterEvents))],
  ];
  const [cut, at] = cuts.reduce((a, b) => (b[1] < a[1] ? b : a));

  const body: BodyStep[] = [];
  let chunksSent = 0;
  for (const [n, item] of items.entries()) {
    if (n === at) break;
    if (item.content !== undefined) {
      if (item.content > 0 && f.intervalMs) body.push({ kind: 'wait', ms: f.intervalMs });
      chunksSent++;
    }
    body.push({ kind: 'write', data: item.data });
  }
  if (at === Infinity) {
    if (f.keepOpen) body.push({ kind: 'hold' });
    else body.push(frames.endWhen ? { kind: 'hold', until: frames.endWhen } : { kind: 'end' });
    return body;
  }
  switch (cut) {
    case 'stall':
      body.push({ kind: 'hold' }); // silent, open
      break;
    case 'drop':
      body.push({ kind: 'drop' }); // no terminating chunk: the client sees a truncated body
      break;
    case 'error':
      body.push({ kind: 'write', data: frames.error(chunksSent, at) });
      if (f.doneAfterError && frames.terminator !== undefined) body.push({ kind: 'write', data: frames.terminator });
      body.push({ kind: 'end' });
      break;
  }
  return body;
}
