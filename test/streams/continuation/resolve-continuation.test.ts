import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { resolveContinuation } from '../../../src/streams/continuation/resolve-continuation.js';
import { resilient } from '../../../src/index.js';

describe('streaming.continuation', () => {
  it('off by default and with false', () => {
    expect(resolveContinuation(undefined)).toBeUndefined();
    expect(resolveContinuation(false)).toBeUndefined();
  });

  it('a strategy, or a builder of your own', () => {
    for (const strategy of ['prefix', 'continue_final_message', 'prefill', 'instruction']) {
      expect(resolveContinuation(strategy)).toEqual({ strategy, builder: undefined });
    }
    const builder = () => undefined;
    expect(resolveContinuation(builder)).toEqual({ strategy: 'custom', builder });
  });

  it.each([true, 'assistant_prefill', 1, {}])('a TypeError naming the option for %j', (value) => {
    const client = new OpenAI({ apiKey: 'sk-test' });
    expect(() => resilient(client, { streaming: { continuation: value as never } })).toThrow(TypeError);
    expect(() => resilient(client, { streaming: { continuation: value as never } })).toThrow(/`streaming\.continuation` must be false, 'prefix', 'continue_final_message', 'prefill', 'instruction' or a function/);
  });
});
