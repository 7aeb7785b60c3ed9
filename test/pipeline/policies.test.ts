import OpenAI from 'openai';
import { bulkhead, BulkheadRejectedError, BrokenCircuitError, circuitBreaker, ConsecutiveBreaker, handleAll, timeout, TimeoutStrategy } from 'cockatiel';
import { describe, expect, it } from 'vitest';
import { faults } from '../../src/testing/index.js';
import { classify, type GiveUpEvent, type RetryEvent } from '../../src/index.js';
import { chatParams, drive, harness, rejectionOf } from '../support/harness.js';

describe('your own cockatiel policies', () => {
  it('policies.attempt sees every attempt: a breaker opened by attempt failures stops the retries', async () => {
    // The retry refused by the open circuit ends the call with the upstream failure that caused it.
    const breaker = circuitBreaker(handleAll, { halfOpenAfter: 60_000, breaker: new ConsecutiveBreaker(2) });
    const { server, clock, ai } = await harness({ retry: { maxRetries: 5 }, policies: { attempt: [breaker] } });
    server.enqueue(...Array.from({ length: 6 }, () => faults.serverError(500)));
    const giveUps: GiveUpEvent[] = [];
    ai.resilience.on('giveUp', (event) => giveUps.push(event));
    const error = await rejectionOf(drive(clock, ai.chat.completions.create(chatParams)));
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect(server.requests).toHaveLength(2);
    expect(giveUps[0]).toMatchObject({ kind: 'server_error', reason: 'circuit_open', attempt: 3 });
    expect(await rejectionOf(ai.chat.completions.create(chatParams))).toBeInstanceOf(BrokenCircuitError);
    expect(server.requests).toHaveLength(2);
  });

  it('a cooperative cockatiel timeout in policies.attempt aborts the request and is retried as a timeout', async () => {
    const { server, clock, ai } = await harness({ policies: { attempt: [timeout(250, TimeoutStrategy.Cooperative)] } });
    server.enqueue(faults.stall());
    const retries: RetryEvent[] = [];
    ai.resilience.on('retry', (event) => retries.push(event));
    const completion = await drive(clock, ai.chat.completions.create(chatParams));
    expect(completion.object).toBe('chat.completion');
    expect(retries.map((event) => event.kind)).toEqual(['timeout']);
    expect(server.requests).toHaveLength(2);
  });

  it('policies.call wraps whole calls: a bulkhead of one rejects a concurrent call without a request', async () => {
    const { server, clock, ai } = await harness({ policies: { call: [bulkhead(1)] } });
    server.enqueue(faults.delay(30));
    const first = ai.chat.completions.create(chatParams);
    const second = await rejectionOf(ai.chat.completions.create(chatParams));
    expect(second).toBeInstanceOf(BulkheadRejectedError);
    expect(classify(second).kind).toBe('bulkhead_full');
    expect((await drive(clock, first)).object).toBe('chat.completion');
    expect(server.requests).toHaveLength(1);
  });
});

describe('your own cockatiel policies and streams', () => {
  /** A cockatiel timeout aborts its signal as soon as the work returns (`abortOnReturn`, on by default). */
  const streamParams = { ...chatParams, stream: true as const };
  async function streamedText(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>): Promise<string> {
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    return text;
  }

  it('a stream handed over under a cockatiel timeout in policies.attempt is read to its end', async () => {
    const { server, clock, ai } = await harness({ policies: { attempt: [timeout(30_000, TimeoutStrategy.Cooperative)] } });
    server.enqueue(faults.stream({ chunks: 5, intervalMs: 5 }));
    const stream = await drive(clock, ai.chat.completions.create(streamParams));
    expect(await streamedText(stream)).toBe('Hello world! more more');
    expect(server.requests).toHaveLength(1);
  });

  it('a stream handed over under a cockatiel timeout in policies.call is read to its end', async () => {
    const { server, clock, ai } = await harness({ policies: { call: [timeout(30_000, TimeoutStrategy.Cooperative)] } });
    server.enqueue(faults.stream({ chunks: 5, intervalMs: 5 }));
    const stream = await drive(clock, ai.chat.completions.create(streamParams));
    expect(await streamedText(stream)).toBe('Hello world! more more');
  });

  it("a stream handed over under policies.attempt still ends on the caller's abort", async () => {
    const { server, clock, ai } = await harness({ policies: { attempt: [timeout(30_000, TimeoutStrategy.Cooperative)] } });
    server.enqueue(faults.stream({ chunks: 50, intervalMs: 20 }));
    const controller = new AbortController();
    const stream = await drive(clock, ai.chat.completions.create(streamParams, { signal: controller.signal }));
    let chunks = 0;
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk');
      if (++chunks === 2) controller.abort();
    }
    // The SDK ends a stream quietly on its caller's abort.
    expect(chunks).toBe(2);
  });
});
