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

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { CapacityOptions, LatencyOption, RandomFailureOptions } from './capacity.js';
import { createFaultScript, scriptControls, type FaultScript } from './fault-script.js';
import { toReceived } from './received-request.js';
import { respond } from './respond.js';
import { handleCors, type CorsServerOptions } from './cors.js';

export { normalizePath } from './received-request.js';
export type { ReceivedRequest } from './received-request.js';
export type { CapacityOptions, FaultServerStats, LatencyOption, RandomFailureOptions } from './capacity.js';
export type { FaultScript } from './fault-script.js';

/** Options of {@link startFaultServer}. */
export interface FaultServerOptions extends CorsServerOptions {
  /** Interface to listen on, default `127.0.0.1`. */
  host?: string;
  /** Port, default 0 (an ephemeral port). */
  port?: number;
  /**
   * The simulated account's limits, enforced with token buckets on the real clock (or
   * `capacity.clock`), optionally also over a shorter window (`capacity.shortWindowSeconds`): a request
   * beyond them gets OpenAI's 429 `rate_limit_exceeded` with `retry-after-ms`, `retry-after` and
   * `x-ratelimit-*` headers, and every success announces the remaining capacity. Scripted faults take
   * precedence and consume no capacity. Without it, capacity is unlimited.
   */
  capacity?: CapacityOptions;
  /**
   * Fail a share of the requests that would be admitted with a 5xx. A random failure consumes no
   * capacity, so goodput as a share of capacity can approach 100%.
   */
  randomFailures?: RandomFailureOptions;
  /** Real delay before answering a successful unscripted request (fixed, uniform in `[min, max]`, optionally with a slow tail: see {@link LatencyOption}), default 0. */
  latencyMs?: LatencyOption;
}

/**
 * A running fault server. See {@link startFaultServer}. Scripting (`enqueue`, `enqueueFor`,
 * `requests`, `requestsTo`, `reset`, `waitForRequests`, `stats`, and an outage: `goDown`, `comeBack`)
 * is the {@link FaultScript} API, shared with `createFaultFetch`.
 */
export interface FaultServer extends FaultScript {
  /** Base URL to give the SDK, e.g. `http://127.0.0.1:41234/v1`. */
  readonly url: string;
  /** Origin without `/v1`, e.g. `http://127.0.0.1:41234` (for the `AzureOpenAI` endpoint). */
  readonly origin: string;
  /** The listening port. */
  readonly port: number;
  /** Number of requests currently open (no response yet, or a stream still being written / held open). */
  readonly openRequests: number;
  /** Destroy every socket (including stalled ones), stop listening and clear every timer. Idempotent. */
  close(): Promise<void>;
}

const noop = (): void => {};

/**
 * `node:http`, loaded on first use so that the module graph of `openai-resilient/testing` has no
 * static `node:*` import and loads in browsers (where only `createFaultFetch` is usable). The
 * specifier is hidden from bundlers, which would otherwise try to resolve it for a browser build.
 */
const loadHttp = (): Promise<typeof import('node:http')> => {
  const specifier = 'node:http';
  return import(/* webpackIgnore: true */ /* @vite-ignore */ specifier) as Promise<typeof import('node:http')>;
};

/** Starts a fault server listening on `127.0.0.1` and an ephemeral port (by default). Node.js only. */
export async function startFaultServer(options: FaultServerOptions = {}): Promise<FaultServer> {
  const host = options.host ?? '127.0.0.1';
  const script = createFaultScript(options, 'startFaultServer');
  const { createServer } = await loadHttp();
  const sockets = new Set<Socket>();
  /** Ends the bookkeeping of each open exchange (and aborts its timers and writes). */
  const releases = new Set<() => void>();
  let open = 0;
  let closing: Promise<void> | undefined;

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    // Browser preflights are answered here, before they could use up a scripted fault.
    if (options.cors === true && handleCors(req, res)) return;
    const n = script.nextSeq();
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
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(req.headers)) {
          if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
        }
        const raw = { method: req.method ?? 'GET', rawPath: req.url ?? '/', headers, text: Buffer.concat(body).toString('utf8') };
        const received = toReceived(raw, n, receivedAt);
        const decision = script.receive(received);
        res.on('close', decision.release);
        respond({ req, res, received, seq: n, signal: controller.signal, store: script.background }, decision.fault).catch(() => res.destroy());
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
  const own = {
    url: `${origin}/v1`,
    origin,
    port,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        script.close('fault server closed');
        for (const release of releases) release();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
      });
      return closing;
    },
  };
  return Object.defineProperties(own, scriptControls(script.api, () => open)) as FaultServer;
}
