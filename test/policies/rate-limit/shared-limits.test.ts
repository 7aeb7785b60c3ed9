import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { resilient } from '../../../src/index.js';
import { startFaultServer, type FaultServer } from '../../../src/testing/index.js';
import { FakeClock } from '../../../src/testing/fake-clock.js';
import type { SharedBackend, SharedPlaces, SharedRateAnswer } from '../../../src/shared/shared-backend.js';
import { chatParams, quietOptions, until } from '../../support/harness.js';

/**
 * A shared state for rate limits only, on the test's fake clock: one bucket of one request a second for
 * every key, served in the order reservations arrive (as Redis serves processes). Circuits are not used.
 */
function sharedBucket(clock: FakeClock): SharedBackend {
  let free = clock.now();
  const readyAt: number[] = [];
  const answer = (place: number): SharedRateAnswer => ({
    wait: Math.max(0, readyAt[place]! - clock.now()), reason: 'requests', tokensLimited: false, places: { requests: place },
  });
  const unused = () => Promise.reject(new Error('not used in this test'));
  return {
    name: 'fake', ready: true, timeout: 60_000, retryInterval: 1_000,
    circuitAdmit: unused, circuitOpen: unused, circuitClose: unused, circuitRelease: unused,
    rateReserve: async () => {
      const at = Math.max(clock.now(), free);
      free = at + 1_000;
      readyAt.push(at);
      return answer(readyAt.length - 1);
    },
    rateCheck: async (_key: string, places: SharedPlaces) => answer(places.requests!),
    rateAdjust: async () => undefined,
    rateLearn: async () => undefined,
    ratePause: async () => undefined,
  };
}

const params = (content: string) => ({ ...chatParams, messages: [{ role: 'user' as const, content }] });

/** A client on a fault server and a fake clock whose rate limits are shared through {@link sharedBucket}. */
async function withSharedLimits(reservedShare = 0) {
  const server = await startFaultServer();
  servers.push(server);
  const clock = new FakeClock(1_700_000_000_000);
  const raw = new OpenAI({ apiKey: 'sk-test-key', baseURL: server.url, maxRetries: 0 });
  const rateLimit = { learn: false, requestsPerMinute: 60, classes: { reservedShare: { background: reservedShare } } };
  const ai = resilient(raw, quietOptions(clock, { rateLimit, shared: sharedBucket(clock) }));
  let waiting = 0;
  ai.resilience.on('rateLimitWait', () => waiting++);
  const sent = () => server.requests.map((request) => (request.body as { messages: Array<{ content: string }> }).messages[0]!.content);
  /** Lets `seconds` seconds pass, one at a time, each once the request due then has reached the server. */
  const drain = async (seconds: number) => {
    for (let second = 0; second < seconds; second++) {
      await clock.advance(1_000);
      await until(() => server.requests.length >= second + 2);
    }
  };
  return { clock, ai, sent, drain, waiting: () => waiting };
}

const servers: FaultServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

describe('shared rate limits: within one process, waiting calls are ordered by class', () => {
  it("an interactive call takes the earliest shared reservation held by this process's waiting background calls", async () => {
    const { clock, ai, sent, drain, waiting } = await withSharedLimits();
    const background = ai.resilience.forClass('background');
    const calls = [0, 1, 2].map((index) => background.chat.completions.create(params(`b${index}`)));
    await clock.until(() => waiting() === 2);
    calls.push(ai.resilience.forClass('interactive').chat.completions.create(params('i0')));
    await clock.until(() => waiting() === 3);
    await until(() => sent().length === 1);
    await drain(3);
    await Promise.all(calls);
    // The shared buckets served the same four reservations, one a second; only their owners changed here.
    expect(sent()).toEqual(['b0', 'i0', 'b1', 'b2']);
  });

  it("a lower class keeps its reserved share of this process's shared reservations", async () => {
    const { clock, ai, sent, drain, waiting } = await withSharedLimits(0.5);
    const calls = [0, 1, 2].map((index) => ai.resilience.forClass('background').chat.completions.create(params(`b${index}`)));
    await clock.until(() => waiting() === 2);
    for (let index = 0; index < 2; index++) {
      calls.push(ai.resilience.forClass('interactive').chat.completions.create(params(`i${index}`)));
      await clock.until(() => waiting() === 3 + index);
    }
    await until(() => sent().length === 1);
    await drain(4);
    await Promise.all(calls);
    expect(sent()).toEqual(['b0', 'i0', 'b1', 'i1', 'b2']);
  });
});
