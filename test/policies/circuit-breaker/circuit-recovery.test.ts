import { describe, expect, it } from 'vitest';
import { faults } from '../../../src/testing/index.js';
import { chatParams, harness } from '../../support/harness.js';

// An outage on the fake clock, through the fault server: the upstream answers every request with a 500
// for 20.5 s, then recovers. Ten callers call in closed loops with the breaker's and the retry policy's
// defaults. Time moves only when nothing is in flight: each request is answered at the fake instant it
// was sent, so what is measured is the pipeline's own timing, however busy this machine is.

/** Not a whole number of seconds: recovery comes between two probes, not with one. */
const OUTAGE = 20_500;
const CALLERS = 10;

async function outage(circuitBreaker: { jitter?: boolean } = {}) {
  let inFlight = 0;
  const sentAt: number[] = [];
  const h = await harness(
    { circuitBreaker, retry: {} },
    {
      fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
        const now = h.clock.now();
        sentAt.push(now);
        if (now < recoverAt) h.server.enqueue(faults.serverError(500));
        inFlight++;
        try {
          // The whole answer is read here: once this returns, the rest is the client's own work (no I/O).
          const response = await fetch(input, init);
          return new Response(await response.arrayBuffer(), response);
        } finally {
          inFlight--;
        }
      }) as typeof globalThis.fetch,
    },
  );
  const { clock, ai } = h;
  const startedAt = clock.now();
  const recoverAt = startedAt + OUTAGE;
  const successes: number[] = [];
  const controller = new AbortController();
  let stopped = false;
  const caller = async () => {
    while (!stopped) {
      try {
        await ai.chat.completions.create(chatParams, { signal: controller.signal });
        successes.push(clock.now());
        // Recovered: what is measured is over (the callers would go on at the speed of this machine).
        stopped = true;
      } catch {
        // Failed (or refused) during the outage: the caller calls again.
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const callers = Array.from({ length: CALLERS }, caller);

  /** Returns once no request is in flight and the answers so far have been handled. */
  const idle = async () => {
    for (let quiet = 0; quiet < 3; ) {
      await new Promise((resolve) => setTimeout(resolve, inFlight > 0 ? 1 : 0));
      quiet = inFlight === 0 ? quiet + 1 : 0;
    }
  };
  const endAt = recoverAt + 3_000;
  while (clock.now() < endAt && !stopped) {
    await idle();
    const now = clock.now();
    const next = Math.min(endAt, now < recoverAt ? recoverAt : endAt, ...clock.pending().map((timer) => timer.at));
    await clock.advance(Math.max(0, next - now));
  }
  stopped = true;
  controller.abort();
  await Promise.all(callers);

  const during = sentAt.filter((at) => at < recoverAt).map((at) => at - startedAt);
  return { during, firstSuccessAfterRecovery: successes[0]! - recoverAt, circuits: ai.resilience.circuits() };
}

describe('recovering from an outage (circuit breaker defaults)', () => {
  it('the first call succeeds within a second of the recovery; meanwhile the model gets one request a second', async () => {
    const { during, firstSuccessAfterRecovery, circuits } = await outage({ jitter: false });
    // The calls in flight when the outage began fail once each (nothing could know yet)...
    expect(during.slice(0, CALLERS)).toEqual(Array(CALLERS).fill(0));
    // ...and from then on one probe a second: 20 requests in 20.5 s, never two within a second.
    const probes = during.slice(CALLERS);
    expect(probes).toEqual(Array.from({ length: 20 }, (_, i) => (i + 1) * 1_000));
    for (const [i, at] of probes.entries()) expect(at - (i === 0 ? 0 : probes[i - 1]!)).toBeGreaterThanOrEqual(1_000);
    // The probe due at 21 s is the first success: half a second after the recovery.
    expect(firstSuccessAfterRecovery).toBe(500);
    expect(circuits).toEqual({ 'gpt-4.1-mini': 'closed' });
  });

  it('with jitter (the default), probes come 1 to 1.2 s apart and the first success within 1.2 s of the recovery', async () => {
    const { during, firstSuccessAfterRecovery } = await outage();
    const probes = during.slice(CALLERS);
    for (const [i, at] of probes.entries()) {
      const gap = at - (i === 0 ? 0 : probes[i - 1]!);
      expect(gap).toBeGreaterThanOrEqual(1_000);
      expect(gap).toBeLessThanOrEqual(1_200);
    }
    expect(probes.length).toBeLessThanOrEqual(Math.floor(OUTAGE / 1_000));
    expect(probes.length).toBeGreaterThanOrEqual(Math.floor(OUTAGE / 1_200));
    expect(firstSuccessAfterRecovery).toBeLessThanOrEqual(1_200);
  });
});
