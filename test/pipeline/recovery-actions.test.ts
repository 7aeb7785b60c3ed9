import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { faults } from '../../src/testing/index.js';
import { ContextWindowExceededError, isResilienceError, resilient, type FallbackEvent } from '../../src/index.js';
import { chatParams, harness, rejectionOf } from '../support/harness.js';

describe('authentication: one retry with fresh credentials', () => {
  it('fails at once without a way to refresh', async () => {
    const { server, ai } = await harness();
    server.enqueue(faults.unauthorized());
    expect(await rejectionOf(ai.chat.completions.create(chatParams))).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(server.requests).toHaveLength(1);
  });

  it('never loops: a second 401 goes to the caller', async () => {
    let calls = 0;
    const { server, ai } = await harness({ refreshCredentials: () => void calls++ });
    server.enqueue(faults.unauthorized(), faults.unauthorized(), faults.unauthorized());
    expect(await rejectionOf(ai.chat.completions.create(chatParams))).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(server.requests).toHaveLength(2);
    expect(calls).toBe(1);
  });
});

describe('pre-flight context window', () => {
  const long = { ...chatParams, model: 'small-model', messages: [{ role: 'user' as const, content: 'x'.repeat(2_000) }] };
  // By the estimate (2 000 characters: 500 tokens); exact counts are in preflight-tokens.test.ts.
  const tokens = { tokenizer: 'estimate' } as const;

  it('fails fast without a request when the estimate exceeds the window', async () => {
    const { server, ai } = await harness({ contextWindows: { 'small-model': 400 }, tokens });
    const error = await rejectionOf(ai.chat.completions.create(long));
    expect(error).toBeInstanceOf(ContextWindowExceededError);
    expect(isResilienceError(error)).toBe(true);
    expect(error).toMatchObject({ kind: 'context_length_exceeded', model: 'small-model', contextWindow: 400 });
    expect(error.estimatedTokens).toBeGreaterThan(400);
    expect(server.requests).toHaveLength(0);
  });

  it('goes straight to the contextWindow fallback', async () => {
    const { server, ai } = await harness({
      contextWindows: { 'small-model': 400, 'large-model': 100_000 },
      tokens,
      fallback: { contextWindow: { 'small-model': ['large-model'] } },
    });
    const events: FallbackEvent[] = [];
    ai.resilience.on('fallback', (event) => events.push(event));
    expect((await ai.chat.completions.create(long)).model).toBe('large-model');
    expect(server.requests.map((request) => (request.body as { model: string }).model)).toEqual(['large-model']);
    expect(events[0]).toMatchObject({ reason: 'context_length_exceeded', to: 'large-model' });
  });

  it('counts the requested output tokens and lets requests that fit through', async () => {
    const { server, ai } = await harness({ contextWindows: { 'small-model': 1_000 }, tokens });
    await ai.chat.completions.create({ ...long, max_tokens: 100 });
    await rejectionOf(ai.chat.completions.create({ ...long, max_tokens: 600 }));
    expect(server.requests).toHaveLength(1);
  });

  it('rejects a window that is not a positive integer', () => {
    const client = new OpenAI({ apiKey: 'k', baseURL: 'http://127.0.0.1:9/v1' });
    expect(() => resilient(client, { contextWindows: { m: 0 } })).toThrow(/`contextWindows.m`/);
    expect(() => resilient(client, { refreshCredentials: 'x' as never })).toThrow(/`refreshCredentials`/);
  });
});
