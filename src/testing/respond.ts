/**
 * Applies one {@link Fault} (or the default success) to one HTTP exchange.
 *
 * @module
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ReceivedRequest } from './received-request.js';
import type { ErrorFault, Fault, StreamOptions } from './fault-types.js';
import { errorBody } from './openai-bodies.js';
import { DEFAULT_RATE_LIMIT_HEADERS, defaultJson, streamPlanFor, wantsStream } from './routes.js';

/** One request/response pair being answered. */
export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  received: ReceivedRequest;
  /** Server-wide request counter, used for `req_<n>` / `chatcmpl-<n>` ids. */
  seq: number;
  /** Aborted when the response closes (client gone) or the server closes. */
  signal: AbortSignal;
}

/** Waits `ms`; resolves `false` instead when `signal` aborts first (the timer is cleared). */
export async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

function baseHeaders(x: Exchange): Record<string, string> {
  return {
    'x-request-id': x.received.requestId,
    'openai-processing-ms': String(Math.max(1, Date.now() - x.received.receivedAt)),
    'openai-version': '2020-10-01',
    'openai-organization': 'org-xxx',
  };
}

function live(x: Exchange): boolean {
  return !x.signal.aborted && !x.res.destroyed;
}

/** Writes a complete JSON (or verbatim string) response. */
function writeJson(x: Exchange, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (!live(x)) return;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  x.res.writeHead(status, {
    ...baseHeaders(x),
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  x.res.end(text);
}

/** Writes one frame; resolves `true` once flushed, `false` if the exchange died first. */
function send(x: Exchange, frame: string): Promise<boolean> {
  if (!live(x)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => resolve(false);
    x.signal.addEventListener('abort', onAbort, { once: true });
    x.res.write(frame, (err) => {
      x.signal.removeEventListener('abort', onAbort);
      resolve(!err && live(x));
    });
  });
}

async function sendAll(x: Exchange, frames: readonly string[]): Promise<boolean> {
  for (const frame of frames) if (!(await send(x, frame))) return false;
  return true;
}

/** Writes a streaming success, honouring the stall / drop / error / omitDone / keepOpen options. */
async function writeStream(x: Exchange, f: StreamOptions): Promise<void> {
  if (!live(x)) return;
  const chunks = Math.max(0, Math.floor(f.chunks ?? 3));
  const plan = streamPlanFor(x.received, x.seq, chunks);
  x.res.writeHead(200, {
    ...baseHeaders(x),
    ...DEFAULT_RATE_LIMIT_HEADERS,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    ...f.headers,
  });
  x.res.flushHeaders();
  if (f.stallBeforeFirstChunk) return; // hold: headers only
  if (!(await sendAll(x, plan.preamble))) return;

  const cut = (n: number | undefined): number | undefined =>
    n === undefined ? undefined : Math.min(Math.max(0, Math.floor(n)), chunks);
  const stallAt = cut(f.stallAfter);
  const dropAt = cut(f.dropAfter);
  const errorAt = cut(f.errorAfter);
  for (let i = 0; i <= chunks; i++) {
    if (i === stallAt) return; // hold the socket open silently
    if (i === dropAt) {
      x.req.socket.destroy(); // no terminating chunk: the client sees a truncated body
      return;
    }
    if (i === errorAt) {
      if (await send(x, plan.error(f.error, i))) x.res.end();
      return;
    }
    if (i === chunks) break;
    if (i > 0 && f.intervalMs && !(await pause(f.intervalMs, x.signal))) return;
    if (!(await send(x, plan.content[i]!))) return;
  }
  if (!(await sendAll(x, plan.tail))) return;
  if (!f.omitDone && !(await send(x, plan.terminator))) return;
  if (!f.keepOpen) x.res.end();
}

function writeError(x: Exchange, f: ErrorFault): void {
  const body =
    f.body !== undefined
      ? f.body
      : errorBody({
          message: f.message ?? `Simulated HTTP ${f.status} error.`,
          type: f.type ?? (f.status >= 500 ? 'server_error' : 'invalid_request_error'),
          param: f.param ?? null,
          code: f.code ?? null,
        });
  writeJson(x, f.status, body, f.headers);
}

/** Answers the exchange with `fault`, or with the route's default success when `fault` is undefined. */
export async function respond(x: Exchange, fault: Fault | undefined): Promise<void> {
  if (!live(x)) return;
  if (fault === undefined) fault = { kind: 'ok' };
  switch (fault.kind) {
    case 'reset': {
      const socket = x.req.socket;
      if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
      else socket.destroy();
      return;
    }
    case 'stall':
      return; // never answer; the socket is destroyed by the client or by close()
    case 'partialBody': {
      const text = JSON.stringify(defaultJson(x.received, x.seq).body);
      x.res.writeHead(200, { ...baseHeaders(x), 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
      if (!(await send(x, text.slice(0, Math.floor(text.length / 2))))) return;
      if (fault.then === 'drop') x.req.socket.destroy();
      return;
    }
    case 'delay':
      if (await pause(fault.ms, x.signal)) await respond(x, fault.then);
      return;
    case 'error':
      writeError(x, fault);
      return;
    case 'stream':
      await writeStream(x, fault);
      return;
    case 'ok': {
      if (fault.body === undefined && wantsStream(x.received)) {
        await writeStream(x, { ...(fault.headers ? { headers: fault.headers } : {}) });
        return;
      }
      const route = fault.body === undefined ? defaultJson(x.received, x.seq) : { status: 200, body: fault.body };
      const status = fault.status ?? route.status;
      writeJson(x, status, route.body, { ...(status < 400 ? DEFAULT_RATE_LIMIT_HEADERS : {}), ...fault.headers });
      return;
    }
  }
}
