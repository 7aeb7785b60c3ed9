import OpenAI from 'openai';
import { afterEach } from 'vitest';
import { resilient, type ResilienceOptions, type ResilientClient } from '../../src/index.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { startFaultServer, type FaultServer } from '../../src/testing/index.js';

export interface Harness {
  server: FaultServer;
  clock: FakeClock;
  /** The bare SDK client pointed at the fault server (SDK retries off). */
  raw: OpenAI;
  /** `resilient(raw, options)` with a fake clock and no jitter. */
  ai: ResilientClient<OpenAI>;
}

const open: FaultServer[] = [];
/** Retry waits announced by `retry` events and not yet advanced, per harness clock. */
const announcedWaits = new WeakMap<FakeClock, number[]>();
afterEach(async () => {
  await Promise.all(open.splice(0).map((server) => server.close()));
});

/**
 * A fault server, a fake clock, and a resilient client on both. Closed after each test. The protecting
 * policies (breaker, bulkhead, rate limiter, retry budget) are off unless the test turns them on, so that
 * each test sees only the policies it is about; retry backoffs and circuit pauses are not jittered.
 */
export async function harness(options: ResilienceOptions = {}, clientOptions: ConstructorParameters<typeof OpenAI>[0] = {}): Promise<Harness> {
  const server = await startFaultServer();
  open.push(server);
  const clock = new FakeClock(1_700_000_000_000);
  const raw = new OpenAI({ apiKey: 'sk-test-key', baseURL: server.url, maxRetries: 0, ...clientOptions });
  const ai = resilient(raw, quietOptions(clock, options));
  announceWaits(clock, ai);
  return { server, clock, raw, ai };
}

/**
 * `options` on `clock` with the protecting policies (breaker, bulkhead, rate limiter, retry budget) off
 * unless `options` turns them on, and no jitter: what every harness gives its client.
 */
export function quietOptions(clock: FakeClock, options: ResilienceOptions = {}): ResilienceOptions {
  return {
    clock,
    bulkhead: false,
    rateLimit: false,
    ...options,
    retry: options.retry === false ? false : { jitter: false, budget: false, ...options.retry },
    // A circuit's pauses are exact (no jitter) unless the test asks for it.
    circuitBreaker: options.circuitBreaker ? { jitter: false, ...options.circuitBreaker } : false,
  };
}

/** Makes {@link drive} advance `clock` through the retry and rate-limit waits `ai` announces (and only those). */
export function announceWaits(clock: FakeClock, ai: ResilientClient<OpenAI>): void {
  const waits = announcedWaits.get(clock) ?? [];
  announcedWaits.set(clock, waits);
  ai.resilience.on('retry', (event) => waits.push(event.delay));
  ai.resilience.on('rateLimitWait', (event) => waits.push(event.delay));
}

/**
 * Awaits `call` while advancing `clock` through every retry and rate-limit wait, so a test never sleeps
 * for real. Only the waits announced by `retry` and `rateLimitWait` events are advanced (attempt and total timeouts are left alone); for a
 * clock not made by {@link harness}, every timer of at most `longestWait` ms counts as a wait.
 */
export async function drive<T>(clock: FakeClock, call: Promise<T>, longestWait = 120_000): Promise<T> {
  const waits = announcedWaits.get(clock);
  let settled = false;
  const done = call.then(
    () => void (settled = true),
    () => void (settled = true),
  );
  const giveUpAt = Date.now() + 5000;
  while (!settled && Date.now() < giveUpAt) {
    const wait = waits
      ? clock.pending().find((timer) => waits.includes(timer.delay))
      : clock.pending().find((timer) => timer.delay <= longestWait);
    if (wait) {
      waits?.splice(waits.indexOf(wait.delay), 1);
      await clock.advance(wait.at - clock.now());
    } else {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }
  await done;
  return call;
}

/** The rejection of `promise` (fails the test if it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to reject, but it resolved');
}

export const chatParams = {
  model: 'gpt-4.1-mini',
  messages: [{ role: 'user' as const, content: 'Say ok' }],
};

/** Polls `condition` in real time (for things that happen on real sockets); fails after 3 s. */
export async function until(condition: () => boolean): Promise<void> {
  const giveUpAt = Date.now() + 3000;
  while (!condition()) {
    if (Date.now() > giveUpAt) throw new Error('condition not met within 3 s');
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
