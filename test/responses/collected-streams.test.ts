import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { systemClock, type ResilientClient } from '../../src/index.js';
import { faults } from '../../src/testing/index.js';
import { chatParams, harness, until } from '../support/harness.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const chatStream = { ...chatParams, stream: true as const };

/**
 * Starts two streams and leaves them: one unread, one read in part through its body. Nothing refers to
 * them afterwards. (A stream iterated in part with the SDK's own iterator stays reachable while its request
 * is in flight, as with the bare SDK: see docs/streaming.md.)
 */
async function leaveTwoStreams(ai: ResilientClient<OpenAI>): Promise<void> {
  await ai.chat.completions.create(chatStream);
  const response = await ai.chat.completions.create(chatStream).asResponse();
  await response.body!.getReader().read();
}

describe('streams garbage-collected before their end', () => {
  // With the system clock and no signal the SDK is given no signal of ours; with a fake clock it is.
  for (const clock of ['system', 'fake'] as const) {
    it(`a stream its caller drops, unread or read in part, gives back its slot and socket once collected (${clock} clock)`, async () => {
      const { server, ai } = await harness({ ...(clock === 'system' ? { clock: systemClock } : {}), bulkhead: { maxConcurrent: 2 } });
      server.enqueue(faults.stream({ chunks: 3, stallAfter: 1 }), faults.stream({ chunks: 3, stallAfter: 1 }));
      const abandoned: string[] = [];
      ai.resilience.on('streamAbandoned', (event) => abandoned.push(event.reason));
      await leaveTwoStreams(ai);
      expect(ai.resilience.load().active).toBe(2);
      // The upstream keeps both open, and timeout.idle (120 s) is far off: only collection can end them.
      for (let round = 0; round < 100 && ai.resilience.load().active > 0; round++) {
        gc();
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(ai.resilience.load().active).toBe(0);
      expect(abandoned).toEqual(['collected', 'collected']);
      expect(ai.resilience.stats().total.streams.abandoned).toBe(2);
      await until(() => server.openRequests === 0);
    });
  }
});
