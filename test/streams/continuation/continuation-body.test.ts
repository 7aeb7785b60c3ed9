import { describe, expect, it } from 'vitest';
import { CONTINUE_INSTRUCTION, continuationBody } from '../../../src/streams/continuation/continuation-body.js';
import type { ContinuationSetting } from '../../../src/streams/continuation/continuation-options.js';
import { partialChat } from '../../support/partial-chat.js';

const messages = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Count.' },
];
const body = { model: 'gpt-4.1-mini', messages, stream: true, stream_options: { include_usage: true }, temperature: 0 };
const setting = (strategy: ContinuationSetting['strategy']): ContinuationSetting => ({ strategy, builder: undefined });

describe('continuationBody', () => {
  it("'prefix': the partial answer as a last assistant message with prefix: true (Mistral, DeepSeek)", () => {
    expect(continuationBody(body, partialChat('w1 w2'), setting('prefix'))).toEqual({
      ...body,
      messages: [...messages, { role: 'assistant', content: 'w1 w2', prefix: true }],
    });
  });

  it("'continue_final_message': the assistant message open, with add_generation_prompt false (vLLM)", () => {
    expect(continuationBody(body, partialChat('w1 w2'), setting('continue_final_message'))).toEqual({
      ...body,
      messages: [...messages, { role: 'assistant', content: 'w1 w2' }],
      continue_final_message: true,
      add_generation_prompt: false,
    });
  });

  it("'prefill': a trailing assistant message, nothing else", () => {
    expect(continuationBody(body, partialChat('w1'), setting('prefill'))).toEqual({
      ...body,
      messages: [...messages, { role: 'assistant', content: 'w1' }],
    });
  });

  it("'instruction': the assistant message, then a user message asking for the rest", () => {
    expect(continuationBody(body, partialChat('w1'), setting('instruction'))?.['messages']).toEqual([
      ...messages,
      { role: 'assistant', content: 'w1' },
      { role: 'user', content: CONTINUE_INSTRUCTION },
    ]);
  });

  it('keeps stream and stream_options, and does not change the original body', () => {
    const original = structuredClone(body);
    const next = continuationBody(body, partialChat('w1'), setting('prefix'))!;
    expect(next).toMatchObject({ stream: true, stream_options: { include_usage: true }, temperature: 0 });
    expect(body).toEqual(original);
  });

  it('lowers max_completion_tokens and max_tokens by the tokens received (one a chunk after the role chunk)', () => {
    const next = continuationBody({ ...body, max_completion_tokens: 100, max_tokens: 50 }, partialChat('w1 w2 w3 w4', { chunks: 5 }), setting('prefix'));
    expect(next).toMatchObject({ max_completion_tokens: 96, max_tokens: 46 });
  });

  it('counts the usage when it came instead of the chunks', () => {
    const next = continuationBody({ ...body, max_tokens: 50 }, partialChat('w1', { chunks: 2, usage: { completion_tokens: 7 } }), setting('prefix'));
    expect(next).toMatchObject({ max_tokens: 43 });
  });

  it('nothing received but the role chunk: the original body, whatever the strategy (a plain retry)', () => {
    for (const strategy of ['prefix', 'continue_final_message', 'prefill', 'instruction'] as const) {
      expect(continuationBody(body, partialChat('', { chunks: 1 }), setting(strategy))).toEqual(body);
    }
  });

  it("a builder of the caller's: its body (stream kept on), or undefined to decline", () => {
    const builder = (original: Readonly<Record<string, unknown>>, partial: { text: string }) => ({ ...original, stream: false, extra: partial.text });
    expect(continuationBody(body, partialChat('w1'), { strategy: 'custom', builder })).toEqual({ ...body, stream: true, extra: 'w1' });
    expect(continuationBody(body, partialChat('w1'), { strategy: 'custom', builder: () => undefined })).toBeUndefined();
  });
});
