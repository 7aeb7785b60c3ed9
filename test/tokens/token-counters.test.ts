import * as o200k from 'gpt-tokenizer/encoding/o200k_base';
import { describe, expect, it, vi } from 'vitest';
import { estimateRequestTokens, estimatingCounter } from '../../src/tokens/estimate-tokens.js';
import { loadEncoding } from '../../src/tokens/load-encoding.js';
import { countRequestTokens } from '../../src/tokens/request-tokens.js';
import { createTokenCounter, type EncodingLoader } from '../../src/tokens/token-counters.js';
import { tokenizer } from './support.js';

const body = { model: 'gpt-4o', messages: [{ role: 'user', content: 'お誕生日おめでとう, and many happy returns!' }], max_tokens: 20 };
const exact = countRequestTokens(body, 'gpt-4o', tokenizer);
const estimate = estimateRequestTokens(body);

describe('createTokenCounter', () => {
  it("'auto' loads nothing until the first count, then loads the model's encoding once and counts exactly", async () => {
    const load = vi.fn<EncodingLoader>(async () => o200k);
    const counter = createTokenCounter('auto', load);
    expect(load).not.toHaveBeenCalled();
    const [first, second] = await Promise.all([counter.count(body, 'gpt-4o'), counter.count(body, 'gpt-4o')]);
    expect(first).toEqual(exact);
    expect(second).toEqual(exact);
    expect(await counter.count(body, 'gpt-4.1')).toEqual({ ...exact });
    expect(load).toHaveBeenCalledTimes(1);
    expect(load).toHaveBeenCalledWith('o200k_base');
    expect(exact.input).not.toBe(estimate.input);
  });

  it("'auto' whose load fails counts by the estimate from then on: no error, no unhandled rejection, no second try", async () => {
    const load = vi.fn<EncodingLoader>(() => Promise.reject(new Error('Cannot find package gpt-tokenizer')));
    const counter = createTokenCounter('auto', load);
    expect(await counter.count(body, 'gpt-4o')).toEqual(estimate);
    expect(await counter.count(body, 'gpt-4o')).toEqual(estimate);
    expect(load).toHaveBeenCalledTimes(1);
  });

  it("'auto' whose loader throws synchronously falls back the same way", async () => {
    const counter = createTokenCounter('auto', () => {
      throw new Error('no dynamic import here');
    });
    expect(await counter.count(body, 'gpt-4o')).toEqual(estimate);
  });

  it("'estimate' never loads", async () => {
    const load = vi.fn<EncodingLoader>(async () => o200k);
    const counter = createTokenCounter('estimate', load);
    expect(counter).toBe(estimatingCounter);
    expect(await counter.count(body, 'gpt-4o')).toEqual(estimate);
    expect(load).not.toHaveBeenCalled();
  });

  it('a Tokenizer counts exactly; one that throws leaves that count to the estimate', async () => {
    expect(await createTokenCounter(tokenizer).count(body, 'gpt-4o')).toEqual(exact);
    const broken = createTokenCounter({ countText: () => { throw new Error('boom'); } });
    expect(await broken.count(body, 'gpt-4o')).toEqual(estimate);
  });

  it('the default loader imports gpt-tokenizer (installed here as a devDependency)', async () => {
    const counter = createTokenCounter('auto');
    expect(await counter.count(body, 'gpt-4o')).toEqual(exact);
    await expect(loadEncoding('cl100k_base')).resolves.toHaveProperty('countTokens');
  });
});

describe('exactCounter', () => {
  it('counts a body once per model: the pre-flight, each attempt and the budgets get the first count', async () => {
    let calls = 0;
    const counting = { countText: (text: string, encoding: 'o200k_base' | 'cl100k_base') => (calls++, tokenizer.countText(text, encoding)) };
    const counter = createTokenCounter(counting);
    const first = await counter.count(body, 'gpt-4o');
    const afterFirst = calls;
    expect(await counter.count(body, 'gpt-4o')).toBe(first);
    expect(calls).toBe(afterFirst);
    expect(await counter.count(body, 'gpt-4')).not.toEqual(first);
    expect(calls).toBeGreaterThan(afterFirst);
    expect(await counter.count({ ...body }, 'gpt-4o')).toEqual(first);
  });
});

describe('exactCounter: a params object sent again after a change', () => {
  it('counts it again when a message was pushed, replaced, or a top-level field changed; not otherwise', async () => {
    const counter = createTokenCounter(tokenizer);
    const params = { model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello there' }] as { role: string; content: string }[] };
    const first = (await counter.count(params, 'gpt-4o')).input;
    expect((await counter.count(params, 'gpt-4o')).input).toBe(first);
    params.messages.push({ role: 'assistant', content: 'Hi! How can I help?' });
    const pushed = (await counter.count(params, 'gpt-4o')).input;
    expect(pushed).toBeGreaterThan(first);
    params.messages[1] = { role: 'assistant', content: 'Hi!' };
    const replaced = (await counter.count(params, 'gpt-4o')).input;
    expect(replaced).toBeLessThan(pushed);
    (params as Record<string, unknown>)['max_tokens'] = 10;
    expect(await counter.count(params, 'gpt-4o')).toMatchObject({ input: replaced, maxOutput: 10 });
    params.messages = [{ role: 'user', content: 'x' }];
    expect((await counter.count(params, 'gpt-4o')).input).toBeLessThan(first);
  });
});
