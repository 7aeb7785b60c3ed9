import OpenAI from 'openai';
import { afterEach } from 'vitest';
import { resilient, type PoolMember, type ResilienceOptions, type ResilientClient } from '../../src/index.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { startFaultServer, type FaultServer, type FaultServerOptions } from '../../src/testing/index.js';
import { announceWaits, quietOptions } from './harness.js';

/** A pool whose members each have their own loopback fault server, on a fake clock. */
export interface MemberPool {
  /** One fault server per member, in the pool's order. */
  servers: FaultServer[];
  /** The members' own SDK clients (`sk-member-<i>`, SDK retries off). */
  clients: OpenAI[];
  clock: FakeClock;
  ai: ResilientClient<OpenAI>;
  /** Requests each member's server received at `path` (chat completions by default), in the pool's order. */
  received(path?: string): number[];
}

const open: FaultServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((server) => server.close()));
});

/** A fault server closed after the test. */
export async function faultServer(options?: FaultServerOptions): Promise<FaultServer> {
  const server = await startFaultServer(options);
  open.push(server);
  return server;
}

/**
 * A pool of `members.length` OpenAI members named `m0`, `m1`…, each on its own fault server, with
 * `members[i]` merged into member `i` (`models`, `weight`, `maxConcurrent`, a `fetch` for its client, the
 * `server` options of its fault server: `capacity`, `latencyMs`…).
 * As the single client's harness: the breaker, the bulkhead, the rate limiter and the retry budget are off
 * unless the test turns them on, and nothing is jittered.
 */
export async function memberPool(
  members: ReadonlyArray<Omit<PoolMember, 'client'> & { fetch?: typeof globalThis.fetch; server?: FaultServerOptions }>,
  options: ResilienceOptions = {},
  clock = new FakeClock(1_700_000_000_000),
): Promise<MemberPool> {
  const servers: FaultServer[] = [];
  const clients: OpenAI[] = [];
  const entries: PoolMember<OpenAI>[] = [];
  for (const [index, { fetch, server: serverOptions, ...member }] of members.entries()) {
    const server = await faultServer(serverOptions);
    servers.push(server);
    const client = new OpenAI({ apiKey: `sk-member-${index}`, baseURL: server.url, maxRetries: 0, ...(fetch ? { fetch } : {}) });
    clients.push(client);
    entries.push({ name: `m${index}`, ...member, client });
  }
  const ai = resilient(entries as [PoolMember<OpenAI>, ...PoolMember[]], quietOptions(clock, options));
  announceWaits(clock, ai);
  const received = (path = '/chat/completions') => servers.map((server) => server.requestsTo(path).length);
  return { servers, clients, clock, ai, received };
}

/** The options {@link memberPool} gives its pool: as the single client's harness. */
export { quietOptions as poolOptions } from './harness.js';

/** The single client's harness drives a pool's calls too: through the waits its `retry` and `rateLimitWait` events announce. */
export { announceWaits, drive as drivePool } from './harness.js';

export { answerGate } from './answer-gate.js';

/** The `model` of each chat completion request `server` received. */
export function modelsSent(server: FaultServer): string[] {
  return server.requestsTo('/chat/completions').map((request) => (request.body as { model: string }).model);
}
