/**
 * Applies one {@link Fault} (or the default success) to one node:http exchange, by writing the
 * {@link ResponsePlan} of `./response-plan.ts` to the socket.
 *
 * Only type imports from `node:*`: the module graph of `openai-resilient/testing` loads in browsers.
 *
 * @module
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ReceivedRequest } from './received-request.js';
import type { Fault } from './fault-types.js';
import { planResponse, type BodyStep } from './response-plan.js';
import type { BackgroundStore } from './background-store.js';

/** One request/response pair being answered. */
export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  received: ReceivedRequest;
  /** Server-wide request counter, used for `req_<n>` / `chatcmpl-<n>` ids. */
  seq: number;
  /** Aborted when the response closes (client gone) or the server closes. */
  signal: AbortSignal;
  /** The server's background responses. */
  store: BackgroundStore;
}

/** Waits `ms` real milliseconds; resolves `false` instead when `signal` aborts first (the timer is cleared). */
export function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Resolves `true` once `p` resolves, `false` if `signal` aborts first (the listener is removed either way). */
function settledBefore(p: Promise<void>, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => resolve(false);
    signal.addEventListener('abort', onAbort, { once: true });
    void p.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    });
  });
}

function live(x: Exchange): boolean {
  return !x.signal.aborted && !x.res.destroyed;
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

/** Runs the body steps; a single write followed by the end is sent with the headers in one `end()`. */
async function writeBody(x: Exchange, steps: readonly BodyStep[]): Promise<void> {
  const [first, second] = steps;
  if (steps.length === 2 && first?.kind === 'write' && second?.kind === 'end') {
    x.res.end(first.data);
    return;
  }
  x.res.flushHeaders();
  for (const step of steps) {
    switch (step.kind) {
      case 'write':
        if (!(await send(x, step.data))) return;
        break;
      case 'wait':
        if (!(await pause(step.ms, x.signal))) return;
        break;
      case 'end':
        x.res.end();
        return;
      case 'hold':
        // Keep the socket open silently (destroyed by the client or by close()), or until `until` resolves.
        if (step.until && (await settledBefore(step.until, x.signal)) && live(x)) x.res.end();
        return;
      case 'drop':
        x.req.socket.destroy(); // no terminating chunk: the client sees a truncated body
        return;
    }
  }
}

/** Answers the exchange with `fault`, or with the route's default success when `fault` is undefined. */
export async function respond(x: Exchange, fault: Fault | undefined): Promise<void> {
  if (!live(x)) return;
  const plan = planResponse(x.received, fault, x.seq, x.store);
  switch (plan.kind) {
    case 'reset': {
      const socket = x.req.socket;
      if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
      else socket.destroy();
      return;
    }
    case 'stall':
      return; // never answer; the socket is destroyed by the client or by close()
    case 'delay':
      if (await pause(plan.ms, x.signal)) await respond(x, plan.then);
      return;
    case 'respond':
      x.res.writeHead(plan.status, plan.headers);
      await writeBody(x, plan.body);
      return;
  }
}
