import OpenAI from 'openai';
import { afterEach } from 'vitest';
import { resilient, type PoolMember, type ResilienceOptions, type ResilientClient } from '../../src/index.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { startFaultServer, type FaultServer, type FaultServerOptions } from '../../src/testing/index.js';
import { announceWaits } from './harness.js';

export interface PoolHarness {
  /** One fault server per member, in the pool's order. */
  servers: FaultServer[];
  clock: FakeClock;
  /** The members' bare SDK clients (SDK retries off), named `m0`, `m1`… */
  clients: OpenAI[];
  ai: ResilientClient<OpenAI>;
}

const open: FaultServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((server) => server.close()));
});

/**
 * A pool of `members.length` members, each on its own fault server (its options in `members`), with a
 * fake clock, named `m0`, `m1`…, `extra` merged into each member (`weight`, `models`, …). As the single
 * client's harness: breaker, bulkhead, rate limiter and retry budget off unless asked for, no jitter.
 */
export async function poolHarness(
  members: ReadonlyArray<FaultServerOptions & { member?: Omit<PoolMember, 'client'> }>,
  options: ResilienceOptions = {},
): Promise<PoolHarness> {
  const clock = new FakeClock(1_700_000_000_000);
  const servers: FaultServer[] = [];
  const clients: OpenAI[] = [];
  const entries: PoolMember<OpenAI>[] = [];
  for (const [index, { member, ...serverOptions }] of members.entries()) {
    const server = await startFaultServer(serverOptions);
    open.push(server);
    servers.push(server);
    const client = new OpenAI({ apiKey: `sk-member-${index}`, baseURL: server.url, maxRetries: 0 });
    clients.push(client);
    entries.push({ name: `m${index}`, ...member, client });
  }
  const ai = resilient(entries as [PoolMember<OpenAI>, ...PoolMember[]], {
    clock,
    bulkhead: false,
    rateLimit: false,
    ...options,
    retry: options.retry === false ? false : { jitter: false, budget: false, ...options.retry },
    circuitBreaker: options.circuitBreaker ? { jitter: false, ...options.circuitBreaker } : false,
  });
  announceWaits(clock, ai);
  return { servers, clock, clients, ai };
}

/** Requests each server received at `path` (chat completions by default), in the pool's order. */
export function received(h: PoolHarness, path = '/chat/completions'): number[] {
  return h.servers.map((server) => server.requestsTo(path).length);
}
