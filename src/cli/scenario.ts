/**
 * The demo's world: one realistic loopback OpenAI account (the fault server with capacity, random 500s
 * and latency), plus a script of trouble for single models at given moments of the run, served by
 * dedicated fault servers behind the model router.
 *
 * @module
 */

import { faults, startFaultServer, type Fault, type FaultServer, type FaultServerOptions } from '../testing/index.js';
import { startRouter, type RoutedRequest } from './router.js';

/** The simulated account: 1 800 requests a minute (30/s), 8% random 500s, 15–60 ms per answer. */
export function accountOptions(seed: number): FaultServerOptions {
  return {
    capacity: { requestsPerMinute: 1800 },
    randomFailures: { rate: 0.08, seed },
    latencyMs: { min: 15, max: 60 },
  };
}

/** One scripted incident: while it is active, the requests it applies to get `fault()`. */
export interface Trouble {
  readonly label: string;
  /** Start and end, as shares of the run's traffic window; `Infinity`: until the run is over, drain included. */
  readonly from: number;
  readonly to: number;
  /** Shortest duration in ms, so that a short run still sees the incident develop. */
  readonly minMs?: number;
  readonly applies: (request: RoutedRequest) => boolean;
  readonly fault: () => Fault;
  /** At most this many requests get the fault. */
  readonly limit?: number;
}

const chat = (r: RoutedRequest): boolean => r.method === 'POST' && r.path === '/chat/completions';

/** The script: an outage of one model, a quota running out on another, and streams that go silent. */
export const TROUBLES: readonly Trouble[] = [
  {
    label: 'gpt-4.1 is overloaded: every request gets 503',
    from: 0.15,
    to: 0.4,
    minMs: 900,
    applies: (r) => chat(r) && r.model === 'gpt-4.1',
    fault: () => faults.overloaded(),
  },
  {
    label: "gpt-4o's quota runs out: 429 insufficient_quota",
    from: 0.2,
    to: Infinity,
    applies: (r) => chat(r) && r.model === 'gpt-4o',
    fault: () => faults.insufficientQuota(),
  },
  {
    label: '3 streams stall after their 3rd chunk',
    from: 0.6,
    to: Infinity,
    applies: (r) => chat(r) && r.stream,
    fault: () => faults.stream({ chunks: 8, intervalMs: 20, stallAfter: 3 }),
    limit: 3,
  },
];

/** When an incident starts and ends, in ms from the start of a traffic window of `windowMs`. */
export function troubleWindow(trouble: Trouble, windowMs: number): { fromMs: number; toMs: number } {
  const fromMs = trouble.from * windowMs;
  return { fromMs, toMs: Math.max(trouble.to * windowMs, fromMs + (trouble.minMs ?? 0)) };
}

/** A running world for one run. */
export interface Scenario {
  /** Base URL for the SDK. */
  readonly url: string;
  /** Requests the clients sent (every attempt, every backend). */
  readonly upstreamRequests: number;
  /** Starts the clock of the trouble script (call when the first request of the run is due). */
  begin(): void;
  /** Closes the router and every fault server. Idempotent. */
  close(): Promise<void>;
}

/** Starts a fresh account (seeded) and the trouble script over a traffic window of `windowMs`. */
export async function startScenario(seed: number, windowMs: number): Promise<Scenario> {
  const servers: FaultServer[] = [];
  try {
    const account = await startFaultServer(accountOptions(seed));
    servers.push(account);
    const incidents: Array<{ trouble: Trouble; server: FaultServer; used: number }> = [];
    for (const trouble of TROUBLES) {
      const server = await startFaultServer();
      servers.push(server);
      incidents.push({ trouble, server, used: 0 });
    }
    let startedAt: number | undefined;
    const router = await startRouter((request) => {
      const now = startedAt === undefined ? -1 : performance.now() - startedAt;
      for (const incident of incidents) {
        const { trouble } = incident;
        const { fromMs, toMs } = troubleWindow(trouble, windowMs);
        if (now < fromMs || now >= toMs || !trouble.applies(request)) continue;
        if (trouble.limit !== undefined && incident.used >= trouble.limit) continue;
        incident.used++;
        // Each incident server only ever holds its own kind of fault, so FIFO order cannot mix them up.
        incident.server.enqueue(trouble.fault());
        return incident.server;
      }
      return account;
    });
    let closing: Promise<void> | undefined;
    return {
      url: router.url,
      get upstreamRequests() {
        return router.requests;
      },
      begin: () => void (startedAt ??= performance.now()),
      close: () => (closing ??= router.close().then(() => closeAll(servers))),
    };
  } catch (error) {
    await closeAll(servers);
    throw error;
  }
}

async function closeAll(servers: readonly FaultServer[]): Promise<void> {
  await Promise.all(servers.map((server) => server.close()));
}
