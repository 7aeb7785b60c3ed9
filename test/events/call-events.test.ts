import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { faults } from '../../src/testing/index.js';
import { systemClock, type ResilienceEventName, type ResilienceEvents } from '../../src/index.js';
import { chatParams, drive, harness, rejectionOf, until } from '../support/harness.js';

function record(ai: { resilience: { on: (event: any, listener: (payload: any) => void) => () => void } }, names: ResilienceEventName[]) {
  const seen: Array<{ event: ResilienceEventName; payload: any }> = [];
  for (const event of names) ai.resilience.on(event, (payload: ResilienceEvents[typeof event]) => seen.push({ event, payload }));
  return seen;
}

describe('call, attempt and timeout events', () => {
  it('frame a call and its attempts with one callId, in order', async () => {
    const { server, clock, ai } = await harness();
    const seen = record(ai, ['callStart', 'attemptStart', 'attemptEnd', 'retry', 'callEnd']);
    server.enqueue(faults.serverError(502));
    const completion = await drive(clock, ai.chat.completions.create(chatParams));
    expect(seen.map((entry) => entry.event)).toEqual(['callStart', 'attemptStart', 'attemptEnd', 'retry', 'attemptStart', 'attemptEnd', 'callEnd']);
    expect(new Set(seen.map((entry) => entry.payload.callId)).size).toBe(1);
    expect(seen[2]!.payload).toMatchObject({ attempt: 1, outcome: 'failure', kind: 'server_error', status: 502 });
    expect(seen[5]!.payload).toMatchObject({ attempt: 2, outcome: 'success', kind: undefined });
    expect(seen[6]!.payload).toMatchObject({
      outcome: 'success', stream: false, responseModel: completion.model, duration: 500,
      usage: { inputTokens: completion.usage!.prompt_tokens, outputTokens: completion.usage!.completion_tokens, totalTokens: completion.usage!.total_tokens },
    });
  });

  it('callEnd reports a failure with the kind the caller received; each call gets its own id', async () => {
    const { server, ai } = await harness();
    const ends = record(ai, ['callEnd']);
    server.enqueue(faults.badRequest());
    await rejectionOf(ai.chat.completions.create(chatParams));
    await ai.chat.completions.create(chatParams);
    expect(ends.map((entry) => [entry.payload.outcome, entry.payload.kind])).toEqual([['failure', 'bad_request'], ['success', undefined]]);
    expect(ends[0]!.payload.error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(ends[1]!.payload.callId).toBeGreaterThan(ends[0]!.payload.callId);
  });

  it('timeout says which limit ran out: attempt, first_chunk, total', async () => {
    const { server, clock, ai } = await harness({ retry: { maxRetries: 0 }, timeout: { attempt: 1_000, firstChunk: 2_000, total: 60_000 } });
    const timeouts = record(ai, ['timeout']);
    server.enqueue(faults.stall(), faults.stream({ stallBeforeFirstChunk: true }));
    const plain = rejectionOf(ai.chat.completions.create(chatParams));
    await until(() => server.requests.length === 1);
    await clock.advance(1_000);
    await plain;
    const streamed = rejectionOf(ai.chat.completions.create({ ...chatParams, stream: true }));
    await until(() => server.requests.length === 2);
    await clock.advance(2_000);
    await streamed;
    expect(timeouts.map((entry) => [entry.payload.timeout, entry.payload.limit])).toEqual([['attempt', 1_000], ['first_chunk', 2_000]]);

    const { server: other, clock: otherClock, ai: tight } = await harness({ timeout: { total: 5_000 } });
    const totals = record(tight, ['timeout']);
    other.enqueue(faults.stall());
    const call = rejectionOf(tight.chat.completions.create(chatParams));
    await until(() => other.requests.length === 1);
    await otherClock.advance(5_000);
    await call;
    expect(totals.map((entry) => entry.payload.timeout)).toEqual(['total']);
  });

  it('timeout reports idle stalls too', async () => {
    const { server, ai } = await harness({ clock: systemClock, timeout: { idle: 40 } });
    const timeouts = record(ai, ['timeout']);
    server.enqueue(faults.stream({ stallAfter: 1 }));
    const stream = await ai.chat.completions.create({ ...chatParams, stream: true });
    await rejectionOf((async () => {
      for await (const _chunk of stream) void _chunk;
    })());
    expect(timeouts).toEqual([{ event: 'timeout', payload: expect.objectContaining({ timeout: 'idle', limit: 40 }) }]);
  });
});

describe('stats by endpoint and for streams', () => {
  it('groups endpoints by path template and counts streams with their time to first chunk', async () => {
    const { server, clock, ai } = await harness();
    await ai.files.retrieve('file-abc123');
    await ai.files.retrieve('file-def456');
    server.enqueue(faults.serverError(500));
    const stream = await drive(clock, ai.chat.completions.create({ ...chatParams, stream: true }));
    for await (const _chunk of stream) void _chunk;
    const { endpoints, total } = ai.resilience.stats();
    expect(endpoints['GET /files/{id}']).toMatchObject({ calls: 2, successes: 2 });
    expect(endpoints['POST /chat/completions']).toMatchObject({ calls: 1, retries: 1 });
    expect(total.streams).toMatchObject({ started: 1, stalls: 0, truncated: 0 });
    expect(total.streams.timeToFirstChunk!.max).toBe(500);
  });

  it('counts stalled and truncated streams', async () => {
    const { server, ai } = await harness({ clock: systemClock, timeout: { idle: 40 } });
    server.enqueue(faults.stream({ stallAfter: 1 }), faults.stream({ omitDone: true }));
    for (let i = 0; i < 2; i++) {
      const stream = await ai.chat.completions.create({ ...chatParams, stream: true });
      await rejectionOf((async () => {
        for await (const _chunk of stream) void _chunk;
      })());
    }
    expect(ai.resilience.stats().models['gpt-4.1-mini']!.streams).toMatchObject({ started: 2, stalls: 1, truncated: 1 });
  });
});
