/**
 * The transport-neutral part of the fault server and the fault fetch: the scripted fault queues, the
 * record of received requests, `waitForRequests`, the counters, an outage switched on and off
 * (`goDown` / `comeBack`), and the admission of unscripted requests (capacity, random failures,
 * latency). Web-standard APIs only.
 *
 * @module
 */

import type { Fault } from './fault-types.js';
import { faults } from './faults.js';
import { createAdmission, type AdmissionOptions, type FaultServerStats } from './capacity.js';
import { matches, sameMatcher, type ReceivedRequest } from './received-request.js';
import { createBackgroundStore, type BackgroundStore } from './background-store.js';

/** What to answer one received request with. */
export interface Decision {
  /** The fault to plan (a scripted one, a capacity / random failure, or a success, possibly delayed). */
  fault: Fault;
  /** Call once the exchange is over (frees a `capacity.maxConcurrent` slot). Idempotent. */
  release: () => void;
}

/** The scripting API shared by the fault server and the fault fetch. */
export interface FaultScript {
  /** Every request received, in arrival order (including ones answered with faults). */
  readonly requests: readonly ReceivedRequest[];
  /** Requests whose normalized path equals `path` (itself normalized) or matches the RegExp. */
  requestsTo(path: string | RegExp): ReceivedRequest[];
  /** Script the next responses for any route, consumed FIFO, one per incoming request. */
  enqueue(...faults: Fault[]): void;
  /** Script the next responses for one route (matched as in `requestsTo`); consulted before the global queue. */
  enqueueFor(path: string | RegExp, ...faults: Fault[]): void;
  /** Number of scripted faults not yet consumed (all queues). */
  readonly pendingFaults: number;
  /** Forget scripted faults, recorded requests and stored background responses. */
  reset(): void;
  /**
   * Resolves with the recorded requests once at least `count` have been received (body read).
   * Rejects after `timeoutMs` (default 2000) or when the server (fetch) closes.
   */
  waitForRequests(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  /**
   * Takes the upstream down, mid-test or mid-benchmark, until {@link FaultScript.comeBack}: every request
   * received from now on is answered with `outage`, before scripted faults (which stay queued for
   * later) and without using capacity; it is still recorded, and counted in `stats().down`. Requests
   * already being answered (a `latencyMs` delay, a stream) finish as planned. Calling it again while
   * down replaces the outage.
   *
   * @param outage An HTTP status (400-599): `503` sends `faults.overloaded()`, another 5xx
   *   `faults.serverError(status)`, a 4xx `faults.status(status)`. Or any {@link Fault}:
   *   `faults.reset()` for a host that drops connections, `faults.stall()` for one that never answers.
   * @default 500
   * @example
   * ```ts
   * server.goDown();        // every request: 500 server_error
   * // ... measure how the client copes ...
   * server.comeBack();      // default successes (and scripted faults) again
   * server.goDown(faults.reset());
   * ```
   */
  goDown(outage?: number | Fault): void;
  /** Ends the outage started by {@link FaultScript.goDown}: requests get scripted faults or default successes again. Idempotent. */
  comeBack(): void;
  /** Whether the upstream is down ({@link FaultScript.goDown} called, {@link FaultScript.comeBack} not yet). */
  readonly isDown: boolean;
  /**
   * Counters since start (or `resetStats()`): requests received, admitted (default successes), rate
   * limited by `capacity`, failed by `randomFailures`, answered by scripted faults, refused by
   * `capacity.maxConcurrent`, and answered with the outage while down (`goDown`).
   */
  stats(): FaultServerStats;
  /** Zero the `stats()` counters (capacity buckets are left as they are). */
  resetStats(): void;
}

/** The internal side of a {@link FaultScript}, used by a transport. */
export interface FaultScriptCore {
  /** The public API, to spread into the transport's object. */
  readonly api: FaultScript;
  /** The background responses (`background: true`) created, read, resumed and cancelled by id. */
  readonly background: BackgroundStore;
  /** The next request number (1, 2, ...), for `req_<n>` and `chatcmpl-<n>` ids. */
  nextSeq(): number;
  /** Records a request whose body has been read and decides its answer. */
  receive(r: ReceivedRequest): Decision;
  /** Rejects every pending `waitForRequests` with `message`; later calls reject at once. */
  close(message: string): void;
}

interface Waiter {
  count: number;
  done(error?: Error): void;
}

const noop = (): void => {};
const emptyStats = (): FaultServerStats => ({ received: 0, admitted: 0, rateLimited: 0, randomFailures: 0, scripted: 0, overloaded: 0, down: 0 });

/** The fault `goDown(outage)` answers with; `label` names the factory in the error for a bad status. */
function outageFault(outage: number | Fault, label: string): Fault {
  if (typeof outage === 'number') {
    if (!Number.isInteger(outage) || outage < 400 || outage > 599) {
      throw new TypeError(`${label}: \`goDown(outage)\` must be an HTTP status from 400 to 599 or a fault, got ${String(outage)}.`);
    }
    if (outage === 503) return faults.overloaded();
    return outage >= 500 ? faults.serverError(outage) : faults.status(outage);
  }
  if (outage === null || typeof outage !== 'object' || typeof (outage as { kind?: unknown }).kind !== 'string') {
    throw new TypeError(`${label}: \`goDown(outage)\` must be an HTTP status from 400 to 599 or a fault, got ${String(outage)}.`);
  }
  return outage;
}

/**
 * Creates the scripting core of a transport. Validates the admission options, naming `label` (the
 * public factory) in its errors.
 */
export function createFaultScript(options: AdmissionOptions, label: string): FaultScriptCore {
  const admit = createAdmission(options, undefined, label);
  let stats = emptyStats();
  const waiters = new Set<Waiter>();
  let requests: ReceivedRequest[] = [];
  let globalQueue: Fault[] = [];
  let routeQueues: Array<{ matcher: string | RegExp; faults: Fault[] }> = [];
  let seq = 0;
  let closed: string | undefined;
  /** While down, what every request gets. */
  let outage: Fault | undefined;
  const background = createBackgroundStore();

  const takeFault = (path: string): Fault | undefined => {
    for (const q of routeQueues) if (q.faults.length > 0 && matches(q.matcher, path)) return q.faults.shift();
    return globalQueue.shift();
  };

  const record = (r: ReceivedRequest): void => {
    requests.push(r);
    for (const w of waiters) if (requests.length >= w.count) w.done();
  };

  const api: FaultScript = {
    get requests() {
      return requests;
    },
    requestsTo: (path) => requests.filter((r) => matches(path, r.path)),
    enqueue: (...faults) => {
      globalQueue.push(...faults);
    },
    enqueueFor: (path, ...faults) => {
      const existing = routeQueues.find((q) => sameMatcher(q.matcher, path));
      if (existing) existing.faults.push(...faults);
      else routeQueues.push({ matcher: path, faults: [...faults] });
    },
    get pendingFaults() {
      return globalQueue.length + routeQueues.reduce((sum, q) => sum + q.faults.length, 0);
    },
    reset: () => {
      requests = [];
      globalQueue = [];
      routeQueues = [];
      background.clear();
    },
    goDown: (down = 500) => {
      outage = outageFault(down, label);
    },
    comeBack: () => {
      outage = undefined;
    },
    get isDown() {
      return outage !== undefined;
    },
    stats: () => ({ ...stats }),
    resetStats: () => {
      stats = emptyStats();
    },
    waitForRequests: (count, timeoutMs = 2000) =>
      new Promise<ReceivedRequest[]>((resolve, reject) => {
        if (requests.length >= count) return resolve([...requests]);
        if (closed !== undefined) return reject(new Error(closed));
        const waiter: Waiter = {
          count,
          done: (error) => {
            clearTimeout(timer);
            waiters.delete(waiter);
            if (error) reject(error);
            else resolve([...requests]);
          },
        };
        const timer = setTimeout(
          () => waiter.done(new Error(`timed out waiting for ${count} requests (got ${requests.length})`)),
          timeoutMs,
        );
        waiters.add(waiter);
      }),
  };

  return {
    api,
    background,
    nextSeq: () => ++seq,
    receive: (r) => {
      record(r);
      stats.received++;
      if (outage !== undefined) {
        stats.down++;
        return { fault: outage, release: noop };
      }
      const scripted = takeFault(r.path);
      if (scripted) {
        stats.scripted++;
        return { fault: scripted, release: noop };
      }
      const admission = admit(r);
      if (admission.kind === 'reject') {
        stats[admission.reason]++;
        return { fault: admission.fault, release: noop };
      }
      stats.admitted++;
      const ok: Fault = Object.keys(admission.headers).length > 0 ? { kind: 'ok', headers: admission.headers } : { kind: 'ok' };
      const fault: Fault = admission.latencyMs > 0 ? { kind: 'delay', ms: admission.latencyMs, then: ok } : ok;
      return { fault, release: admission.release };
    },
    close: (message) => {
      closed ??= message;
      for (const w of waiters) w.done(new Error(message));
    },
  };
}

/**
 * The scripting and inspection members a fault server and a fault fetch share, as property descriptors
 * (the getters must stay getters): `Object.defineProperties(target, scriptControls(...))`.
 */
export function scriptControls(api: FaultScript, openRequests: () => number): PropertyDescriptorMap {
  return Object.getOwnPropertyDescriptors({
    get requests() {
      return api.requests;
    },
    requestsTo: api.requestsTo,
    enqueue: api.enqueue,
    enqueueFor: api.enqueueFor,
    get pendingFaults() {
      return api.pendingFaults;
    },
    reset: api.reset,
    goDown: api.goDown,
    comeBack: api.comeBack,
    get isDown() {
      return api.isDown;
    },
    stats: api.stats,
    resetStats: api.resetStats,
    waitForRequests: api.waitForRequests,
    get openRequests() {
      return openRequests();
    },
  });
}
