import { describe, expect, it } from 'vitest';
import { faults } from '../../src/testing/index.js';
import { LatencyHistogram } from '../../src/stats/latency-histogram.js';
import { chatParams, drive, harness, rejectionOf } from '../support/harness.js';

describe('resilience.stats()', () => {
  it('counts calls, successes, failures by kind, retries and token usage per model', async () => {
    const { server, clock, ai } = await harness();
    server.enqueue(faults.serverError(500));
    const first = await drive(clock, ai.chat.completions.create(chatParams));
    const second = await ai.chat.completions.create({ ...chatParams, model: 'gpt-4.1' });
    server.enqueue(faults.badRequest());
    await rejectionOf(ai.chat.completions.create(chatParams));

    const stats = ai.resilience.stats();
    expect(stats.total).toMatchObject({ calls: 3, successes: 2, failures: { bad_request: 1 }, retries: 1 });
    expect(stats.models['gpt-4.1-mini']).toMatchObject({ calls: 2, successes: 1, failures: { bad_request: 1 }, retries: 1 });
    expect(stats.models['gpt-4.1']).toMatchObject({ calls: 1, successes: 1, retries: 0 });
    const expectedTokens = first.usage!.total_tokens + second.usage!.total_tokens;
    expect(stats.total.usage.totalTokens).toBe(expectedTokens);
    expect(stats.total.usage.inputTokens).toBe(first.usage!.prompt_tokens + second.usage!.prompt_tokens);
    expect(stats.models['gpt-4.1']!.usage.outputTokens).toBe(second.usage!.completion_tokens);
    expect(stats.since).toBeLessThanOrEqual(clock.now());
  });

  it('measures latency on the pipeline clock, waits included', async () => {
    const { server, clock, ai } = await harness();
    server.enqueue(faults.serverError(500), faults.serverError(500));
    await drive(clock, ai.chat.completions.create(chatParams));
    const { latency } = ai.resilience.stats().total;
    // Backoff waits of 500 and 1000 ms (no jitter): ±5% histogram resolution.
    expect(latency.count).toBe(1);
    expect(latency.p50).toBeGreaterThanOrEqual(1500 * 0.95);
    expect(latency.p50).toBeLessThanOrEqual(1500 * 1.05);
    expect(latency.max).toBe(1500);
  });

  it('always has latency and time to first chunk: zeros, with count 0, before anything was measured', async () => {
    const { server, ai } = await harness();
    const zero = { count: 0, p50: 0, p95: 0, p99: 0, max: 0 };
    const before = ai.resilience.stats().total;
    expect(before.latency).toEqual(zero);
    expect(before.streams.timeToFirstChunk).toEqual(zero);
    // A model whose only call failed has no latency either (only answers are measured).
    server.enqueue(faults.badRequest());
    await rejectionOf(ai.chat.completions.create(chatParams));
    expect(ai.resilience.stats().models['gpt-4.1-mini']!.latency).toEqual(zero);
    await ai.chat.completions.create(chatParams);
    expect(ai.resilience.stats().models['gpt-4.1-mini']!.latency.count).toBe(1);
  });

  it('breaks down by tenant, and shows circuits, learned limits and bulkhead load', async () => {
    const { server, ai } = await harness({ circuitBreaker: {}, bulkhead: {}, rateLimit: {} });
    await ai.resilience.forTenant('acme').chat.completions.create(chatParams);
    await ai.resilience.forTenant('globex').chat.completions.create(chatParams);
    server.enqueue(faults.insufficientQuota());
    await rejectionOf(ai.resilience.forTenant('acme').chat.completions.create(chatParams));
    await ai.chat.completions.create(chatParams);

    const stats = ai.resilience.stats();
    expect(stats.tenants).toEqual({
      acme: expect.objectContaining({ calls: 2, successes: 1, failures: { quota_exhausted: 1 } }),
      globex: expect.objectContaining({ calls: 1, successes: 1 }),
    });
    expect(stats.total.calls).toBe(4);
    expect(stats.circuits).toEqual({ 'gpt-4.1-mini': 'closed' });
    expect(stats.models['gpt-4.1-mini']!.rateLimit).toMatchObject({ requestsPerMinute: 500, tokensPerMinute: 200_000 });
    expect(stats.bulkhead).toMatchObject({ active: 0, queued: 0 });
    expect(stats.bulkhead.classes.background).toMatchObject({ granted: 0, queued: 0, shed: 0, rejected: 0 });
  });
});

describe('resilience.stats() per traffic class', () => {
  it('counts calls per class, from views and from the request header, with all three classes always present', async () => {
    const { server, clock, ai } = await harness();
    server.enqueue(faults.serverError(500));
    await drive(clock, ai.resilience.forClass('background').chat.completions.create(chatParams));
    await ai.resilience.forTenant('acme').resilience.forClass('background').chat.completions.create(chatParams);
    await ai.chat.completions.create(chatParams, { headers: { 'x-openai-resilient-class': 'interactive' } });
    await ai.chat.completions.create(chatParams);

    const { classes, tenants, total } = ai.resilience.stats();
    expect(Object.keys(classes)).toEqual(['interactive', 'default', 'background']);
    expect(classes.background).toMatchObject({ calls: 2, successes: 2, retries: 1 });
    expect(classes.interactive).toMatchObject({ calls: 1, successes: 1, retries: 0 });
    expect(classes.default).toMatchObject({ calls: 1, successes: 1 });
    expect(tenants['acme']).toMatchObject({ calls: 1 });
    expect(total.calls).toBe(4);
  });
});

describe('LatencyHistogram', () => {
  it('gives percentiles within 5% in constant memory', () => {
    const histogram = new LatencyHistogram();
    for (let round = 0; round < 100; round++) for (let ms = 1; ms <= 1000; ms++) histogram.record(ms);
    expect(histogram.count).toBe(100_000);
    for (const [fraction, exact] of [[0.5, 500], [0.95, 950], [0.99, 990]] as const) {
      const value = histogram.percentile(fraction)!;
      expect(Math.abs(value - exact) / exact).toBeLessThanOrEqual(0.05);
    }
    expect(histogram.max).toBe(1000);
    expect(new LatencyHistogram().percentile(0.5)).toBeUndefined();
  });

  it('keeps sub-millisecond and very long latencies', () => {
    const histogram = new LatencyHistogram();
    histogram.record(0.2);
    histogram.record(5 * 3_600_000);
    expect(histogram.percentile(0.5)).toBe(1);
    expect(histogram.percentile(1)).toBe(5 * 3_600_000);
  });
});
