import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { faults } from '../../src/testing/index.js';
import { resilient, TRAFFIC_CLASS_HEADER, type RetryEvent } from '../../src/index.js';
import { chatParams, drive, harness, rejectionOf } from '../support/harness.js';

/** The `service_tier` of each request the server received, in order (`undefined`: none sent). */
function tiersSent(server: { requests: ReadonlyArray<{ body: unknown }> }): unknown[] {
  return server.requests.map((request) => (request.body as { service_tier?: unknown }).service_tier);
}

describe('flex: background calls at the flex tier', () => {
  it('sends the calls of flex classes at flex, and leaves other classes, endpoints and the caller’s own tier alone', async () => {
    const { server, ai } = await harness({ flex: true });
    const background = ai.resilience.forClass('background');
    await background.chat.completions.create(chatParams);
    await background.responses.create({ model: 'gpt-4.1-mini', input: 'hi' });
    await ai.chat.completions.create(chatParams);
    await ai.chat.completions.create(chatParams, { headers: { [TRAFFIC_CLASS_HEADER]: 'background' } });
    await background.chat.completions.create(chatParams, { headers: { [TRAFFIC_CLASS_HEADER]: 'interactive' } });
    await background.chat.completions.create({ ...chatParams, service_tier: 'default' });
    await background.embeddings.create({ model: 'text-embedding-3-small', input: 'a' });
    expect(tiersSent(server)).toEqual(['flex', 'flex', undefined, 'flex', undefined, 'default', undefined]);
  });

  it('is off by default, and `classes` and `models` choose what goes at flex', async () => {
    const off = await harness();
    await off.ai.resilience.forClass('background').chat.completions.create(chatParams);
    expect(tiersSent(off.server)).toEqual([undefined]);

    const { server, ai } = await harness({ flex: { classes: ['default', 'background'], models: ['o4-mini'] } });
    await ai.chat.completions.create({ ...chatParams, model: 'o4-mini' });
    await ai.chat.completions.create(chatParams);
    await ai.resilience.forClass('interactive').chat.completions.create({ ...chatParams, model: 'o4-mini' });
    expect(tiersSent(server)).toEqual(['flex', undefined, undefined]);
  });

  it('a 429 Resource Unavailable sends the call again at once at its usual tier, outside the caller’s retries and the budget', async () => {
    // No retries at all and an empty budget: the tier change is not a retry of the caller's.
    const { server, ai } = await harness({ flex: true, retry: { maxRetries: 0, budget: { ratio: 0, minRetries: 0 } } });
    const retries: RetryEvent[] = [];
    ai.resilience.on('retry', (event) => retries.push(event));
    server.enqueue(faults.resourceUnavailable());
    const completion = await ai.resilience.forClass('background').chat.completions.create(chatParams);
    expect(completion.choices[0]!.message.content).toBeTruthy();
    expect(tiersSent(server)).toEqual(['flex', undefined]);
    expect(retries.map((event) => [event.delay, event.delaySource, event.kind, event.trafficClass])).toEqual([[0, 'service_tier', 'resource_unavailable', 'background']]);
    // The caller's body object is never changed.
    expect(chatParams).not.toHaveProperty('service_tier');
  });

  it('a flex refusal is not a rate limit: the model is not paused for other calls, whatever its headers say', async () => {
    const { server, ai } = await harness({ flex: true, rateLimit: {} });
    server.enqueue(faults.resourceUnavailable({ headers: { 'retry-after': '3600' } }));
    await ai.resilience.forClass('background').chat.completions.create(chatParams);
    // No clock advance: an interactive call right after goes at once.
    await ai.chat.completions.create(chatParams);
    expect(tiersSent(server)).toEqual(['flex', undefined, undefined]);
  });

  it('a 429 rate limit on a flex request is a rate limit: retried after its hint, still at flex', async () => {
    const { server, clock, ai } = await harness({ flex: true });
    server.enqueue(faults.rateLimited({ retryAfterMs: 700 }));
    await drive(clock, ai.resilience.forClass('background').chat.completions.create(chatParams));
    expect(tiersSent(server)).toEqual(['flex', 'flex']);
  });

  it("`whenUnavailable: 'retry'` retries at flex after the backoff, as the caller's retry", async () => {
    const { server, clock, ai } = await harness({ flex: { whenUnavailable: 'retry' }, retry: { maxRetries: 1, initialDelay: 500 } });
    const retries: RetryEvent[] = [];
    ai.resilience.on('retry', (event) => retries.push(event));
    server.enqueue(faults.resourceUnavailable(), faults.resourceUnavailable());
    const error = await rejectionOf(drive(clock, ai.resilience.forClass('background').chat.completions.create(chatParams)));
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(tiersSent(server)).toEqual(['flex', 'flex']);
    expect(retries.map((event) => [event.delay, event.delaySource])).toEqual([[500, 'backoff']]);
  });

  it('a model that refuses flex (400 naming service_tier) is sent at its usual tier, then and from then on', async () => {
    const { server, ai } = await harness({ flex: true });
    server.enqueue(faults.badRequest({ message: "Invalid value for 'service_tier': flex is not available for this model.", param: 'service_tier' }));
    const background = ai.resilience.forClass('background');
    await background.chat.completions.create(chatParams);
    await background.chat.completions.create(chatParams);
    await background.chat.completions.create({ ...chatParams, model: 'o4-mini' });
    expect(tiersSent(server)).toEqual(['flex', undefined, undefined, 'flex']);
  });

  it('another 400 of a flex request is the caller’s error, not a tier change', async () => {
    const { server, ai } = await harness({ flex: true });
    server.enqueue(faults.badRequest());
    const error = await rejectionOf(ai.resilience.forClass('background').chat.completions.create(chatParams));
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(tiersSent(server)).toEqual(['flex']);
  });

  it('rejects invalid flex options with a TypeError naming the option', () => {
    const raw = new OpenAI({ apiKey: 'sk-test' });
    expect(() => resilient(raw, { flex: { whenUnavailable: 'later' as never } })).toThrow(/`flex.whenUnavailable` must be 'default' or 'retry'/);
    expect(() => resilient(raw, { flex: { classes: ['bulk' as never] } })).toThrow(/`flex.classes\[0\]` must be one of/);
    expect(() => resilient(raw, { flex: { models: [''] } })).toThrow(/`flex.models\[0\]` must be a model name/);
    expect(() => resilient(raw, { flex: { models: 'o3' as never } })).toThrow(/`flex.models` must be an array/);
    expect(() => resilient(raw, { flex: { tier: 'flex' } as never })).toThrow(/unknown option `flex.tier`/);
  });
});
