/**
 * A fault-injecting `fetch`: the fault server's script language, default bodies, stream events and
 * error bodies, answered in-process without sockets. Pass its `fetch` to any client that accepts a
 * `fetch` option (the `openai` SDK's `new OpenAI({ fetch })`).
 *
 * Web-standard APIs only (`Request`, `Response`, `ReadableStream`, `TextEncoder`, `AbortSignal`,
 * `setTimeout`): works in Node.js, Deno, Bun, edge runtimes and browsers.
 *
 * @example
 * ```ts
 * const faultFetch = createFaultFetch();
 * const client = new OpenAI({ apiKey: 'sk-test', baseURL: 'https://api.openai.test/v1', fetch: faultFetch.fetch });
 * faultFetch.enqueue(faults.rateLimited({ retryAfterMs: 20 }), faults.reset());
 * // ... 1st request gets a 429, 2nd a connection reset, then default successes.
 * ```
 *
 * @module
 */

import type { CapacityOptions, LatencyOption, RandomFailureOptions } from './capacity.js';
import { createFaultScript, scriptControls, type FaultScript } from './fault-script.js';
import type { Fault } from './fault-types.js';
import { toReceived, type ReceivedRequest } from './received-request.js';
import { planResponse, type BodyStep, type ResponsePlan } from './response-plan.js';
import type { BackgroundStore } from './background-store.js';

/** A standard `fetch` signature, as accepted by the `openai` SDK's `fetch` option. */
export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Options of {@link createFaultFetch}: the same simulated account as `startFaultServer`'s. */
export interface FaultFetchOptions {
  /**
   * The simulated account's limits (token buckets on the real clock, or `capacity.clock`), as for `startFaultServer`:
   * requests beyond them get OpenAI's 429 `rate_limit_exceeded` with live `x-ratelimit-*` headers.
   */
  capacity?: CapacityOptions;
  /** Fail a share of the requests that would be admitted with a 5xx (no capacity consumed). */
  randomFailures?: RandomFailureOptions;
  /** Real delay before answering a successful unscripted request (fixed, uniform in `[min, max]`, optionally with a slow tail: see {@link LatencyOption}), default 0. */
  latencyMs?: LatencyOption;
}

/**
 * A fault-injecting `fetch` and its script. See {@link createFaultFetch}. Scripting (`enqueue`,
 * `enqueueFor`, `requests`, `requestsTo`, `reset`, `waitForRequests`, `stats`, `goDown`, `comeBack`)
 * is the {@link FaultScript} API of the fault server.
 */
export interface FaultFetch extends FaultScript {
  /** The `fetch` to give the SDK: `new OpenAI({ apiKey, baseURL, fetch: faultFetch.fetch })`. Any URL is answered. */
  readonly fetch: FetchFunction;
  /** Requests not yet over: no response yet, or a body still being delivered or held open. */
  readonly openRequests: number;
  /**
   * Ends every open request as the fault server's `close()` does: a pending `fetch` rejects with
   * `TypeError('fetch failed')`, a body being delivered errors with `TypeError('terminated')`; every
   * timer is cleared and later calls are refused (`fetch failed`, `ECONNREFUSED`). Idempotent.
   */
  close(): Promise<void>;
}

const encoder = new TextEncoder();
const noop = (): void => {};

/** An `Error` carrying a Node-style `code`, as undici puts in the `cause` of its network errors. */
function codedError(message: string, code: string, name = 'Error'): Error {
  const error = Object.assign(new Error(message), { code });
  if (name !== 'Error') error.name = name;
  return error;
}

/** `TypeError: fetch failed` with `cause`, as undici rejects when the connection fails before a response. */
function fetchFailed(cause: unknown): TypeError {
  return new TypeError('fetch failed', { cause });
}

/** `TypeError: terminated`, as undici errors a body whose connection was cut. */
function terminated(): TypeError {
  return new TypeError('terminated', { cause: codedError('other side closed', 'UND_ERR_SOCKET', 'SocketError') });
}

/** The error an aborted `fetch` rejects with: the signal's reason, else an `AbortError`. */
function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/** Statuses whose response cannot have a body. */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/**
 * One request being answered: its timers, its abort listener and how it fails (the pending `fetch`
 * rejects, or the body stream errors). {@link Exchange.finish} releases everything exactly once.
 */
class Exchange {
  #timers = new Map<ReturnType<typeof setTimeout>, (fired: boolean) => void>();
  #finished = false;
  #fail: (error: unknown) => void = noop;
  #closeError: () => unknown = () => undefined;
  #held: Array<() => void> = [];
  readonly #signal: AbortSignal | null;
  readonly #onAbort: () => void;
  readonly #onFinish: () => void;

  constructor(signal: AbortSignal | null, onFinish: () => void) {
    this.#signal = signal;
    this.#onFinish = onFinish;
    this.#onAbort = () => this.fail(abortReason(signal!));
    signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  get finished(): boolean {
    return this.#finished;
  }

  /**
   * How the exchange fails from now on: `fail` is called with the abort reason, or with
   * `closeError()` when the fault fetch closes.
   */
  failWith(fail: (error: unknown) => void, closeError: () => unknown): void {
    this.#fail = fail;
    this.#closeError = closeError;
  }

  /** Fails the exchange as a connection closed by the server would. */
  close(): void {
    this.fail(this.#closeError());
  }

  /** Fails the exchange with `error` (if it is still open) and finishes it. */
  fail(error: unknown): void {
    if (this.#finished) return;
    const fail = this.#fail;
    this.finish();
    fail(error);
  }

  /** Waits `ms` real milliseconds; resolves `false` instead if the exchange finishes first (the timer is cleared). */
  sleep(ms: number): Promise<boolean> {
    if (this.#finished) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        resolve(true);
      }, ms);
      this.#timers.set(timer, resolve);
    });
  }

  /** Resolves once the exchange finishes (abort, cancel, close): the wait of a held exchange. */
  hold(): Promise<void> {
    if (this.#finished) return Promise.resolve();
    return new Promise((resolve) => this.#held.push(resolve));
  }

  /** Clears every timer, removes the abort listener and releases the request. Idempotent. */
  finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#signal?.removeEventListener('abort', this.#onAbort);
    for (const [timer, resolve] of this.#timers) {
      clearTimeout(timer);
      resolve(false);
    }
    this.#timers.clear();
    for (const resolve of this.#held.splice(0)) resolve();
    this.#onFinish();
  }
}

/**
 * The body of a response plan, delivered as the consumer reads it (a pull source with no read-ahead),
 * so that every frame sent before a drop is read before the error, as with a real socket.
 */
function bodyStream(x: Exchange, steps: readonly BodyStep[]): { stream: ReadableStream<Uint8Array>; error: (e: unknown) => void } {
  let next = 0;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const stream = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
      },
      async pull(c) {
        while (!x.finished) {
          const step = steps[next++];
          if (step === undefined || step.kind === 'end') {
            x.finish();
            c.close();
            return;
          }
          switch (step.kind) {
            case 'write':
              c.enqueue(encoder.encode(step.data));
              return;
            case 'wait':
              if (!(await x.sleep(step.ms))) return;
              break;
            case 'hold':
              // Ends by abort, cancel or close; with `until`, the body also ends normally once it resolves.
              await (step.until ? Promise.race([x.hold(), step.until]) : x.hold());
              if (!x.finished) {
                x.finish();
                c.close();
              }
              return;
            case 'drop':
              x.fail(terminated());
              return;
          }
        }
      },
      cancel() {
        x.finish();
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, error: (e) => controller.error(e) };
}

/** The `Response` of a `respond` plan; complete JSON bodies are delivered at once and end the exchange. */
function toResponse(x: Exchange, plan: Extract<ResponsePlan, { kind: 'respond' }>, url: string): Response {
  const [first, second] = plan.body;
  const complete = plan.body.length === 2 && first?.kind === 'write' && second?.kind === 'end';
  const streamed = NULL_BODY_STATUSES.has(plan.status) || complete ? undefined : bodyStream(x, plan.body);
  const body = NULL_BODY_STATUSES.has(plan.status) ? null : complete ? first.data : streamed!.stream;
  const response = new Response(body, { status: plan.status, headers: plan.headers });
  Object.defineProperty(response, 'url', { value: url });
  if (streamed) x.failWith(streamed.error, terminated);
  else x.finish();
  return response;
}

/** Answers one recorded request with `fault`, following its plan. */
function answer(x: Exchange, received: ReceivedRequest, seq: number, fault: Fault, url: string, store: BackgroundStore): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    x.failWith(reject, () => fetchFailed(codedError('other side closed', 'UND_ERR_SOCKET', 'SocketError')));
    const step = async (f: Fault): Promise<void> => {
      const plan = planResponse(received, f, seq, store);
      switch (plan.kind) {
        case 'reset':
          x.fail(fetchFailed(codedError('socket hang up', 'ECONNRESET')));
          return;
        case 'stall':
          return; // no response until the signal aborts or close()
        case 'delay':
          if (await x.sleep(plan.ms)) await step(plan.then);
          return;
        case 'respond':
          resolve(toResponse(x, plan, url));
          return;
      }
    };
    step(fault).catch((error: unknown) => x.fail(fetchFailed(error)));
  });
}

/**
 * Creates a fault-injecting `fetch` that answers every request in-process, with the same
 * {@link Fault} script, default successes (chat completions, responses, embeddings, models, files,
 * ...), streams and error bodies as `startFaultServer`, without opening a socket.
 *
 * Transport faults behave as undici's `fetch` does:
 * - `reset` rejects with `TypeError('fetch failed')` whose `cause` has `code: 'ECONNRESET'`;
 * - `stall` never settles until `init.signal` aborts (then rejects with the signal's reason, an `AbortError`);
 * - `delay` waits on a real timer (cleared on abort);
 * - a dropped body (`dropAfter`, `dropBody`) errors with `TypeError('terminated')`;
 * - a held body (`stallAfter`, `stallBeforeFirstChunk`, `keepOpen`, `stallBody`) never continues until
 *   the signal aborts (then errors with its reason) or the body is cancelled.
 *
 * No timer outlives an aborted or finished request. Requests are recorded as by the fault server
 * (method, normalized path, query, lower-case headers as sent by the caller, parsed body).
 */
export function createFaultFetch(options: FaultFetchOptions = {}): FaultFetch {
  const script = createFaultScript(options, 'createFaultFetch');
  const open = new Set<Exchange>();
  let closed = false;

  const fetch: FetchFunction = async (input, init) => {
    const signal = init?.signal ?? (input instanceof Request ? input.signal : null);
    if (signal?.aborted) throw abortReason(signal);
    if (closed) throw fetchFailed(codedError('connect ECONNREFUSED', 'ECONNREFUSED'));
    const request = new Request(input, init);
    const seq = script.nextSeq();
    const receivedAt = Date.now();
    const text = request.body === null ? '' : await request.text();
    if (signal?.aborted) throw abortReason(signal);
    if (closed) throw fetchFailed(codedError('other side closed', 'UND_ERR_SOCKET', 'SocketError'));

    const url = new URL(request.url);
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => {
      headers[name] = value;
    });
    const received = toReceived({ method: request.method, rawPath: url.pathname + url.search, headers, text }, seq, receivedAt);
    const decision = script.receive(received);
    const x = new Exchange(signal, () => {
      open.delete(x);
      decision.release();
    });
    open.add(x);
    return answer(x, received, seq, decision.fault, request.url, script.background);
  };

  const own = {
    fetch,
    close: () => {
      closed = true;
      script.close('fault fetch closed');
      for (const x of [...open]) x.close();
      return Promise.resolve();
    },
  };
  return Object.defineProperties(own, scriptControls(script.api, () => open.size)) as FaultFetch;
}
