import { describe, expect, it } from 'vitest';
import { estimateRequestTokens } from '../../src/tokens/estimate-tokens.js';
import { countRequestTokens } from '../../src/tokens/request-tokens.js';
import messagesFixture from './fixtures/cookbook-messages.json' with { type: 'json' };
import toolsFixture from './fixtures/cookbook-tools.json' with { type: 'json' };
import { tokenizer } from './support.js';

const count = (body: Record<string, unknown>, model = body['model'] as string) => countRequestTokens(body, model, tokenizer);
const text = (value: string, encoding: 'o200k_base' | 'cl100k_base' = 'o200k_base') => tokenizer.countText(value, encoding);

describe('countRequestTokens: the API counts published in OpenAI\'s cookbook', () => {
  // https://github.com/openai/openai-cookbook/blob/main/examples/How_to_count_tokens_with_tiktoken.ipynb
  for (const [model, promptTokens] of Object.entries(messagesFixture.promptTokens)) {
    it(`example messages on ${model}: ${promptTokens} prompt tokens, as the API counted`, () => {
      expect(count({ model, messages: messagesFixture.messages })).toEqual({ input: promptTokens, maxOutput: undefined, exact: true });
    });
  }
  for (const [model, promptTokens] of Object.entries(toolsFixture.promptTokens)) {
    it(`example messages with a function tool on ${model}: ${promptTokens} prompt tokens, as the API counted`, () => {
      expect(count({ model, messages: toolsFixture.messages, tools: toolsFixture.tools }).input).toBe(promptTokens);
    });
  }
  it('the estimate misses them (the reason to count exactly)', () => {
    expect(estimateRequestTokens({ messages: messagesFixture.messages }).input).not.toBe(129);
  });
});

describe('countRequestTokens: chat messages', () => {
  const user = (content: unknown) => ({ model: 'gpt-4o', messages: [{ role: 'user', content }] });

  it('text parts count as their text; an image part of unknown size as the largest image (8 tiles); base64 never as text', () => {
    const plain = count(user('Describe this picture')).input;
    expect(count(user([{ type: 'text', text: 'Describe this picture' }])).input).toBe(plain);
    const withUrl = count(user([{ type: 'text', text: 'Describe this picture' }, { type: 'image_url', image_url: { url: 'https://example.com/a.png' } }]));
    expect(withUrl.input).toBe(plain + 85 + 8 * 170);
    const low = count(user([{ type: 'image_url', image_url: { url: 'https://example.com/a.png', detail: 'low' } }]));
    expect(low.input).toBe(count(user('')).input + 85);
    const base64 = `data:application/pdf;base64,${'QUJD'.repeat(10_000)}`;
    expect(count(user([{ type: 'file', file: { file_data: base64 } }])).input).toBe(count(user('')).input);
  });

  it('an inline PNG costs its tiles: 1024×1024 at high detail is 4 tiles on gpt-4o (765 tokens)', () => {
    const png = new Uint8Array(24);
    png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 4, 0, 0, 0, 4, 0]);
    const url = `data:image/png;base64,${btoa(String.fromCharCode(...png))}`;
    const image = count(user([{ type: 'image_url', image_url: { url, detail: 'high' } }])).input;
    expect(image - count(user('')).input).toBe(765);
  });

  it('an assistant\'s tool calls cost their name and arguments plus 3; a name 1 more than its text', () => {
    const base = count({ model: 'gpt-4o', messages: [{ role: 'assistant', content: null }] }).input;
    const withCall = count({
      model: 'gpt-4o',
      messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] }],
    }).input;
    expect(withCall - base).toBe(3 + text('get_weather') + text('{"city":"Paris"}'));
    const named = count({ model: 'gpt-4o', messages: [{ role: 'user', name: 'alice', content: 'hi' }] }).input;
    expect(named - count(user('hi')).input).toBe(text('alice') + 1);
  });

  it('the output bound is max_completion_tokens, max_tokens or max_output_tokens', () => {
    expect(count({ ...user('hi'), max_completion_tokens: 50 }).maxOutput).toBe(50);
    expect(count({ ...user('hi'), max_tokens: 40 }).maxOutput).toBe(40);
    expect(count({ model: 'gpt-4.1', input: 'hi', max_output_tokens: 30 }).maxOutput).toBe(30);
    expect(count(user('hi')).maxOutput).toBeUndefined();
  });

  it('special-token strings in a prompt are text, not refused', () => {
    expect(count(user('<|endoftext|>')).input).toBeGreaterThan(count(user('')).input + 1);
  });
});

describe('countRequestTokens: Responses, Embeddings, Completions', () => {
  it('Responses: a string input is a user message, instructions a developer message, function tools as in Chat Completions', () => {
    const chat = count({ model: 'gpt-4.1', messages: [{ role: 'developer', content: 'Be brief.' }, { role: 'user', content: 'Hello there' }] }).input;
    expect(count({ model: 'gpt-4.1', instructions: 'Be brief.', input: 'Hello there' })).toEqual({ input: chat, maxOutput: undefined, exact: true });
    const items = count({ model: 'gpt-4.1', input: [{ role: 'developer', content: 'Be brief.' }, { role: 'user', content: [{ type: 'input_text', text: 'Hello there' }] }] });
    expect(items.input).toBe(chat);
    const fn = toolsFixture.tools[0]!.function;
    const flat = count({ model: 'gpt-4o', input: toolsFixture.messages, tools: [{ type: 'function', ...fn }, { type: 'web_search' }] });
    expect(flat.input).toBe(toolsFixture.promptTokens['gpt-4o']);
  });

  it('Responses: function calls and their outputs cost their text plus 3', () => {
    const base = count({ model: 'gpt-4.1', input: [] }).input;
    const call = { type: 'function_call', call_id: 'c1', name: 'get_weather', arguments: '{"city":"Paris"}' };
    const output = { type: 'function_call_output', call_id: 'c1', output: '18 degrees' };
    expect(count({ model: 'gpt-4.1', input: [call, output] }).input - base).toBe(3 + text('get_weather') + text('{"city":"Paris"}') + 3 + text('18 degrees'));
  });

  it('Embeddings: strings in cl100k_base for text-embedding-3-*, with no overhead; token arrays by their length', () => {
    expect(count({ model: 'text-embedding-3-small', input: 'hello world' }).input).toBe(text('hello world', 'cl100k_base'));
    expect(count({ model: 'text-embedding-3-small', input: ['hello', 'world'] }).input).toBe(text('hello', 'cl100k_base') + text('world', 'cl100k_base'));
    expect(count({ model: 'text-embedding-3-small', input: [1, 2, 3, 4] }).input).toBe(4);
    expect(count({ model: 'text-embedding-3-small', input: [[1, 2], [3]] }).input).toBe(3);
  });

  it('legacy Completions: the prompt, string or tokens', () => {
    expect(count({ model: 'gpt-3.5-turbo-instruct', prompt: 'Once upon a time' }).input).toBe(text('Once upon a time', 'cl100k_base'));
    expect(count({ model: 'gpt-3.5-turbo-instruct', prompt: [5, 6, 7] }).input).toBe(3);
  });

  it('a body of no known shape is estimated', () => {
    expect(count({ model: 'gpt-4o', file_id: 'f' })).toEqual({ ...estimateRequestTokens({ model: 'gpt-4o', file_id: 'f' }), exact: false });
  });
});

describe('countRequestTokens: Responses images', () => {
  it('input_image: detail at the part; a file_id or URL of unknown size as the largest image', () => {
    const base = countRequestTokens({ model: 'gpt-4o', input: [{ role: 'user', content: [] }] }, 'gpt-4o', tokenizer).input;
    const image = (part: Record<string, unknown>) =>
      countRequestTokens({ model: 'gpt-4o', input: [{ role: 'user', content: [{ type: 'input_image', ...part }] }] }, 'gpt-4o', tokenizer).input - base;
    expect(image({ image_url: 'https://example.com/cat.jpg', detail: 'low' })).toBe(85);
    expect(image({ image_url: 'https://example.com/cat.jpg', detail: 'auto' })).toBe(85 + 8 * 170);
    expect(image({ file_id: 'file-abc', detail: 'high' })).toBe(85 + 8 * 170);
  });
});
