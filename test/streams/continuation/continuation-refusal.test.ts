import { describe, expect, it } from 'vitest';
import { continuationRefusal, deliveredTokens } from '../../../src/streams/continuation/continuation-refusal.js';
import { partialChat } from '../../support/partial-chat.js';

const body = { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'hi' }], stream: true };
const call = { index: 0, id: 'call_a', name: 'weather', arguments: '{"ci', complete: false };

describe('continuationRefusal', () => {
  it('plain text mid-answer: continued', () => {
    expect(continuationRefusal(body, partialChat('w1 w2'))).toBeUndefined();
    expect(continuationRefusal({ ...body, response_format: { type: 'text' }, tools: [{ type: 'function' }] }, partialChat('w1'))).toBeUndefined();
  });

  it.each([
    ['not_chat', body, partialChat('w1', { api: 'responses' })],
    ['not_chat', { model: 'x', prompt: 'hi' }, partialChat('w1')],
    ['choices', { ...body, n: 2 }, partialChat('w1')],
    ['choices', body, partialChat('w1', { choices: [...partialChat('w1').choices, { index: 1, text: 'x', refusal: undefined, toolCalls: [], finishReason: undefined }] })],
    ['logprobs', { ...body, logprobs: true }, partialChat('w1')],
    ['logprobs', { ...body, top_logprobs: 2 }, partialChat('w1')],
    ['tool_call', body, partialChat('', { toolCalls: [call] })],
    ['tool_call', body, partialChat('Let me look.', { toolCalls: [{ ...call, complete: true }] })],
    ['refusal', body, partialChat('', { refusal: "I can't" })],
    ['structured_output', { ...body, response_format: { type: 'json_schema', json_schema: {} } }, partialChat('{"a":')],
    ['structured_output', { ...body, response_format: { type: 'json_object' } }, partialChat('{"a":')],
    ['audio', { ...body, modalities: ['text', 'audio'], audio: { voice: 'alloy', format: 'pcm16' } }, partialChat('w1')],
    ['finished', body, partialChat('w1', { choices: [{ index: 0, text: 'w1', refusal: undefined, toolCalls: [], finishReason: 'stop' }] })],
    ['length', { ...body, max_tokens: 2 }, partialChat('w1 w2', { chunks: 3 })],
    ['length', { ...body, max_completion_tokens: 2 }, partialChat('w1 w2', { chunks: 3 })],
  ])('%s', (reason, request, partial) => {
    expect(continuationRefusal(request, partial)).toBe(reason);
  });

  it('room for one more token under max_tokens: continued', () => {
    expect(continuationRefusal({ ...body, max_tokens: 3 }, partialChat('w1 w2', { chunks: 3 }))).toBeUndefined();
  });
});

describe('deliveredTokens', () => {
  it('one a chunk after the role chunk, or the usage when it came', () => {
    expect(deliveredTokens(partialChat('w1 w2 w3', { chunks: 4 }))).toBe(3);
    expect(deliveredTokens(partialChat('', { chunks: 1 }))).toBe(0);
    expect(deliveredTokens(partialChat('w1', { usage: { completion_tokens: 9 } }))).toBe(9);
  });
});
