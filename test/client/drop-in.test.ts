import { describe, expect, it } from 'vitest';
import { faults } from '../../src/testing/index.js';
import type { RetryEvent } from '../../src/index.js';
import { chatParams, drive, harness, until } from '../support/harness.js';

// The rest of the drop-in behaviour (class, helpers, pagination, Azure) is in test/smoke/drop-in.test.ts,
// which runs against every SDK major.

describe('withOptions()', () => {
  it('rejects an invalid maxRetries or timeout with a TypeError', async () => {
    const { ai } = await harness();
    expect(() => ai.withOptions({ maxRetries: -1 })).toThrow(/`withOptions\(\{ maxRetries \}\)`/);
    expect(() => ai.withOptions({ timeout: 0 })).toThrow(TypeError);
  });

  it("a view's timeout bounds its streams' first chunk too, unless timeout.firstChunk was set", async () => {
    const stallThenStream = async (options: Parameters<typeof harness>[0], wait: number) => {
      const { server, clock, ai } = await harness(options);
      const retries: RetryEvent[] = [];
      ai.resilience.on('retry', (event) => retries.push({ ...event }));
      server.enqueue(faults.stream({ stallBeforeFirstChunk: true }), faults.stream({ chunks: 2 }));
      const call = ai.withOptions({ timeout: 5_000 }).chat.completions.create({ ...chatParams, stream: true });
      await until(() => server.requests.length === 1);
      await clock.advance(5_000);
      const timedOutAt5s = retries.length;
      await clock.advance(wait - 5_000);
      await drive(clock, call);
      return { timedOutAt5s, retries: retries.map((event) => event.kind) };
    };
    expect(await stallThenStream({}, 5_000)).toEqual({ timedOutAt5s: 1, retries: ['timeout'] });
    expect(await stallThenStream({ timeout: { firstChunk: 60_000 } }, 60_000)).toEqual({ timedOutAt5s: 0, retries: ['timeout'] });
  });
});
