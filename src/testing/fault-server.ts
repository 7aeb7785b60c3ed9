/**
 * A fault-injecting, OpenAI-compatible HTTP server on loopback, for tests.
 *
 * @example
 * ```ts
 * const server = await startFaultServer();
 * const client = new OpenAI({ apiKey: 'sk-test', baseURL: server.url, maxRetries: 0 });
 * server.enqueue(faults.rateLimited({ retryAfterMs: 20 }), faults.reset());
 * // ... 1st request gets a 429, 2nd a connection reset, then default successes.
 * await server.close();
 * ```
 *
 * @module
 */

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Fault } from './fault-types.js';
import {
  createAdmission,
  type CapacityOptions,
  type FaultServerStats,
  type LatencyOption,
  type RandomFailureOptions,
} from './capacity.js';
import { matches, sameMatcher, toReceived, type ReceivedRequest } from './received-request.js';
import { respond } from './respond.js';

export { normalizePath } from './received-request.js';
export type { ReceivedRequest } from './received-request.js';
export type { CapacityOptions, FaultServerStats, LatencyOption, RandomFailureOptions } from './capacity.js';

/** Options of {@link startFaultServer}. */
export interface FaultServerOptions {
  /** Interface to listen on, default `127.0.0.1`. */
  host?: string;
  /** Port, default 0 (an ephemeral port). */
  port?: number;
  /**
   * The simulated account's limits, enforced with token buckets on the real clock: a request beyond
   * them gets OpenAI's 429 `rate_limit_exceeded` with `retry-after-ms`, `retry-after` and
   * `x-ratelimit-*` headers, and every success announces the remaining capacity. Scripted faults take
   * precedence and consume no capacity. Without it, capacity is unlimited.
   */
  capacity?: CapacityOptions;
  /**
   * Fail a share of the requests that would be admitted with a 5xx. A random failure consumes no
   * capacity, so goodput as a share of capacity can approach 100%.
   */
  randomFailures?: RandomFailureOptions;
  /** Real delay before answering a successful unscripted request (fixed or uniform in `[min, max]`), default 0. */
  latencyMs?: LatencyOption;
}

/** A running fault server. See {@link startFaultServer}. */
export interface FaultServer {
  /** Base URL to give the SDK, e.g. `http://127.0.0.1:41234/v1`. */
  readonly url: string;
  /** Origin without `/v1`, e.g. `http://127.0.0.1:41234` (for the `AzureOpenAI` endpoint). */
  readonly origin: string;
  /** The listening port. */
  readonly port: number;
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
  /** Forget scripted faults and recorded requests. */
  reset(): void;
  /** Number of requests currently open (no response yet, or a stream still being written / held open). */
  readonly openRequests: number;
  /**
   * Resolves with the recorded requests once at least `count` have been received (body read).
   * Rejects after `timeoutMs` (default 2000) or when the server closes.
   */
  waitForRequests(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  /**
   * Counters since start (or {@link FaultServer.resetStats}): requests received, admitted (default
   * successes), rate limited by `capacity`, failed by `randomFailures`, answered by scripted faults,
   * and refused by `capacity.maxConcurrent`.
   */
  stats(): FaultServerStats;
  /** Zero the {@link FaultServer.stats} counters (capacity buckets are left as they are). */
  resetStats(): void;
  /** Destroy every socket (including stalled ones), stop listening and clear every timer. Idempotent. */
  close(): Promise<void>;
}

interface Waiter {
  count: number;
  done(error?: Error): void;
}

const noop = (): void => {};

/** Starts a fault server listening on `127.0.0.1` and an ephemeral port (by default). */
export async function startFaultServer(options: FaultServerOptions = {}): Promise<FaultServer> {
  const host = options.host ?? '127.0.0.1';
  const admit = createAdmission(options);
  const emptyStats = (): FaultServerStats => ({ received: 0, admitted: 0, rateLimited: 0, randomFailures: 0, scripted: 0, overloaded: 0 });
  let stats = emptyStats();
  const sockets = new Set<Socket>();
  /** Ends the bookkeeping of each open exchange (and aborts its timers and writes). */
  const releases = new Set<() => void>();
  const waiters = new Set<Waiter>();
  let requests: ReceivedRequest[] = [];
  let globalQueue: Fault[] = [];
  let routeQueues: Array<{ matcher: string | RegExp; faults: Fault[] }> = [];
  let open = 0;
  let seq = 0;
  let closing: Promise<void> | undefined;

  const takeFault = (path: string): Fault | undefined => {
    for (const q of routeQueues) if (q.faults.length > 0 && matches(q.matcher, path)) return q.faults.shift();
    return globalQueue.shift();
  };

  const record = (r: ReceivedRequest): void => {
    requests.push(r);
    for (const w of waiters) if (requests.length >= w.count) w.done();
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const n = ++seq;
    const receivedAt = Date.now();
    const controller = new AbortController();
    let counted = true;
    const release = (): void => {
      if (counted) open--;
      counted = false;
      controller.abort();
      releases.delete(release);
    };
    open++;
    releases.add(release);
    req.on('error', noop);
    res.on('error', noop);
    res.on('close', release);
    const body: Buffer[] = [];
    req.on('data', (chunk: Buffer) => body.push(chunk));
    req.on('end', () => {
      if (controller.signal.aborted) return;
      try {
        const received = toReceived(req, n, receivedAt, Buffer.concat(body));
        record(received);
        stats.received++;
        const exchange = { req, res, received, seq: n, signal: controller.signal };
        const scripted = takeFault(received.path);
        if (scripted) {
          stats.scripted++;
          respond(exchange, scripted).catch(() => res.destroy());
          return;
        }
        const admission = admit(received);
        if (admission.kind === 'reject') {
          stats[admission.reason]++;
          respond(exchange, admission.fault).catch(() => res.destroy());
          return;
        }
        stats.admitted++;
        res.on('close', admission.release);
        const ok: Fault = Object.keys(admission.headers).length > 0 ? { kind: 'ok', headers: admission.headers } : { kind: 'ok' };
        const fault: Fault = admission.latencyMs > 0 ? { kind: 'delay', ms: admission.latencyMs, then: ok } : ok;
        respond(exchange, fault).catch(() => res.destroy());
      } catch {
        res.destroy(); // never let a malformed request throw out of the server
      }
    });
  };

  const server = createServer(handle);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('error', noop);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_err: Error, socket: Socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', noop);

  const port = (server.address() as AddressInfo).port;
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    url: `${origin}/v1`,
    origin,
    port,
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
    },
    stats: () => ({ ...stats }),
    resetStats: () => {
      stats = emptyStats();
    },
    get openRequests() {
      return open;
    },
    waitForRequests: (count, timeoutMs = 2000) =>
      new Promise<ReceivedRequest[]>((resolve, reject) => {
        if (requests.length >= count) return resolve([...requests]);
        if (closing) return reject(new Error('fault server is closed'));
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
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        for (const w of waiters) w.done(new Error('fault server closed'));
        for (const release of releases) release();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
