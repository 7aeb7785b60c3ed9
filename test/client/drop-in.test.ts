import { describe, expect, it } from 'vitest';
import { harness } from '../support/harness.js';

// The rest of the drop-in behaviour (class, helpers, pagination, Azure) is in test/smoke/drop-in.test.ts,
// which runs against every SDK major.

describe('withOptions()', () => {
  it('rejects an invalid maxRetries or timeout with a TypeError', async () => {
    const { ai } = await harness();
    expect(() => ai.withOptions({ maxRetries: -1 })).toThrow(/`withOptions\(\{ maxRetries \}\)`/);
    expect(() => ai.withOptions({ timeout: 0 })).toThrow(TypeError);
  });
});

