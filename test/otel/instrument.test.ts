import OpenAI from 'openai';
import { InMemorySpanExporter, BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { faults } from '../../src/testing/index.js';
import { instrument } from '../../src/otel/index.js';
import { fedStream } from '../support/fed-stream.js';
import { chatParams, drive, harness, rejectionOf, until } from '../support/harness.js';

class CollectingReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

async function otelHarness(options: Parameters<typeof harness>[0] = {}, clientOptions: Parameters<typeof harness>[1] = {}, instrumentOptions: { budgetTenants?: boolean } = {}) {
  const h = await harness(options, clientOptions);
  const spans = new InMemorySpanExporter();
  const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }).getTracer('test');
  const reader = new CollectingReader();
  const meter = new MeterProvider({ readers: [reader] }).getMeter('test');
  const stop = instrument(h.ai, { tracer, meter, ...instrumentOptions });
  const metrics = async () => {
    const { resourceMetrics } = await reader.collect();
    return flatten(resourceMetrics);
  };
  return { ...h, spans, metrics, stop };
}

function flatten(resource: ResourceMetrics) {
  const byName: Record<string, Array<{ attributes: Record<string, unknown>; value: any }>> = {};
  for (const scope of resource.scopeMetrics) {
    for (const metric of scope.metrics) {
      byName[metric.descriptor.name] = metric.dataPoints.map((point) => ({ attributes: point.attributes, value: point.value }));
    }
  }
  return byName;
}

describe('openai-resilient/otel', () => {
  it('makes a client span per call with a child span per attempt and GenAI attributes', async () => {
    const { server, clock, ai, spans } = await otelHarness();
    server.enqueue(faults.serverError(500));
    const completion = await drive(clock, ai.chat.completions.create(chatParams));
    const finished = spans.getFinishedSpans();
    const call = finished.find((span) => span.name === 'chat gpt-4.1-mini')!;
    const attempts = finished.filter((span) => span.name.startsWith('attempt'));
    expect(call.kind).toBe(SpanKind.CLIENT);
    expect(call.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4.1-mini',
      'gen_ai.response.model': completion.model,
      'gen_ai.usage.input_tokens': completion.usage!.prompt_tokens,
      'gen_ai.usage.output_tokens': completion.usage!.completion_tokens,
    });
    expect(attempts.map((span) => span.name)).toEqual(['attempt 1', 'attempt 2']);
    for (const attempt of attempts) {
      expect(attempt.parentSpanContext?.spanId).toBe(call.spanContext().spanId);
      expect(attempt.spanContext().traceId).toBe(call.spanContext().traceId);
    }
    expect(attempts[0]!.status.code).toBe(SpanStatusCode.ERROR);
    expect(attempts[0]!.attributes['error.type']).toBe('server_error');
    expect(call.events.map((event) => event.name)).toEqual(['retry']);
    expect(call.events[0]!.attributes).toMatchObject({ 'error.type': 'server_error', 'openai_resilient.delay_ms': 500 });
  });

  it('marks failed calls with error.type and a redacted message', async () => {
    const { server, clock, ai, spans } = await otelHarness();
    server.enqueue(faults.unauthorized({ message: 'Incorrect API key provided: sk-test-key.' }));
    expect(await rejectionOf(drive(clock, ai.chat.completions.create(chatParams)))).toBeInstanceOf(OpenAI.AuthenticationError);
    const call = spans.getFinishedSpans().find((span) => span.name === 'chat gpt-4.1-mini')!;
    expect(call.status.code).toBe(SpanStatusCode.ERROR);
    expect(call.status.message).not.toContain('sk-test-key');
    expect(call.attributes['error.type']).toBe('authentication');
    expect(call.events.map((event) => event.name)).toEqual(['give_up']);
  });

  it('records duration and token histograms and decision counters', async () => {
    const { server, clock, ai, metrics } = await otelHarness({ cache: true, fallback: { models: { 'gpt-4.1': ['gpt-4.1-mini'] } } });
    server.enqueue(faults.serverError(500));
    await drive(clock, ai.embeddings.create({ model: 'text-embedding-3-small', input: 'hi' }));
    await ai.embeddings.create({ model: 'text-embedding-3-small', input: 'hi' });
    server.enqueue(faults.insufficientQuota());
    await ai.chat.completions.create({ ...chatParams, model: 'gpt-4.1' });
    const collected = await metrics();
    const durations = collected['gen_ai.client.operation.duration']!;
    expect(durations.reduce((sum, point) => sum + point.value.count, 0)).toBe(3);
    expect(durations.some((point) => point.attributes['gen_ai.operation.name'] === 'embeddings')).toBe(true);
    const usage = collected['gen_ai.client.token.usage']!;
    expect(usage.map((point) => point.attributes['gen_ai.token.type']).sort()).toContain('input');
    expect(collected['openai_resilient.retries']![0]).toMatchObject({ value: 1, attributes: { 'error.type': 'server_error' } });
    expect(collected['openai_resilient.fallbacks']![0]!.value).toBe(1);
    const lookups = Object.fromEntries(collected['openai_resilient.cache.lookups']!.map((point) => [point.attributes['openai_resilient.cache.result'], point.value]));
    expect(lookups).toEqual({ miss: 1, hit: 1 });
  });

  it('ends the span of every attempt of a hedged call: the winner, the twin that lost, a stream, an aborted call', async () => {
    const { server, clock, ai, spans } = await otelHarness({ hedge: { delay: 100, maxHedgedShare: 1 } });
    const started: string[] = [];
    ai.resilience.on('attemptStart', (e) => started.push(`${e.callId}:${e.attempt}:${e.hedge}`));
    const hedged = async <T>(call: Promise<T>): Promise<T> => {
      const before = server.requests.length;
      await until(() => server.requests.length === before + 1);
      await clock.advance(100);
      return call;
    };
    // The first attempt stalls: its twin wins and the stalled one is aborted.
    server.enqueue(faults.stall());
    await hedged(ai.chat.completions.create(chatParams));
    // A stream: the twin's first chunk wins the race.
    server.enqueue(faults.stall());
    const stream = await hedged(ai.chat.completions.create({ ...chatParams, stream: true }));
    for await (const chunk of stream) void chunk;
    // Both racers stall: the caller's abort ends them both.
    server.enqueue(faults.stall(), faults.stall());
    const controller = new AbortController();
    const aborted = ai.chat.completions.create(chatParams, { signal: controller.signal });
    await until(() => server.requests.length === 5);
    await clock.advance(100);
    await until(() => server.requests.length === 6);
    controller.abort();
    expect(await rejectionOf(aborted)).toBeInstanceOf(OpenAI.APIUserAbortError);
    await until(() => server.openRequests === 0);

    const attempts = spans.getFinishedSpans().filter((span) => span.name.startsWith('attempt'));
    expect(started).toHaveLength(6);
    expect(attempts).toHaveLength(6);
    const ended = attempts.map((span) => `${span.attributes['openai_resilient.call_id']}:${span.attributes['openai_resilient.attempt']}:${span.attributes['openai_resilient.hedge']}`);
    expect(ended.sort()).toEqual([...started].sort());
    expect(attempts.map((span) => span.name).sort()).toEqual(['attempt 1', 'attempt 1', 'attempt 1', 'attempt 1 hedge 1', 'attempt 1 hedge 1', 'attempt 1 hedge 1']);
    // The twin that lost says so.
    const lost = attempts.filter((span) => span.attributes['error.type'] === 'aborted');
    expect(lost).toHaveLength(4);
  });

  it('ends the spans still open when stopped, attempts included', async () => {
    const { server, ai, spans, stop } = await otelHarness();
    server.enqueue(faults.stall());
    const controller = new AbortController();
    const call = ai.chat.completions.create(chatParams, { signal: controller.signal });
    await until(() => server.requests.length === 1);
    stop();
    expect(spans.getFinishedSpans().map((span) => span.name).sort()).toEqual(['attempt 1', 'chat gpt-4.1-mini']);
    controller.abort();
    await rejectionOf(call);
  });

  it('stops when asked', async () => {
    const { ai, spans, stop } = await otelHarness();
    stop();
    await ai.chat.completions.create(chatParams);
    expect(spans.getFinishedSpans()).toEqual([]);
  });
  it("ends a stream's call span when the stream ends, with its usage, duration and token metrics", async () => {
    const fed = fedStream({ includeUsage: true });
    const { clock, ai, spans, metrics } = await otelHarness({}, { fetch: fed.fetch });
    const stream = await ai.chat.completions.create({ ...chatParams, stream: true, stream_options: { include_usage: true } });
    await clock.advance(1_500);
    expect(spans.getFinishedSpans().map((span) => span.name)).toEqual(['attempt 1']);
    fed.finish();
    await until(() => spans.getFinishedSpans().length === 2);
    const call = spans.getFinishedSpans().find((span) => span.name === 'chat gpt-4.1-mini')!;
    expect(call.attributes).toMatchObject({ 'gen_ai.usage.input_tokens': 10, 'gen_ai.usage.output_tokens': 3 });
    expect(call.status.code).not.toBe(SpanStatusCode.ERROR);
    const recorded = await metrics();
    expect(recorded['gen_ai.client.operation.duration']![0]!.value).toMatchObject({ count: 1, sum: 1.5 });
    const tokens = Object.fromEntries(recorded['gen_ai.client.token.usage']!.map((point) => [point.attributes['gen_ai.token.type'], point.value.sum]));
    expect(tokens).toEqual({ input: 10, output: 3 });
    for await (const _chunk of stream) void _chunk;
  });

  it("puts the call's traffic class on its span, its duration metric and bulkhead rejections", async () => {
    const { server, ai, spans, metrics } = await otelHarness({ bulkhead: { maxConcurrent: 1, maxQueued: 1 } });
    await ai.resilience.forClass('interactive').chat.completions.create(chatParams);
    await ai.chat.completions.create(chatParams);
    const [first, second] = spans.getFinishedSpans().filter((span) => span.name === 'chat gpt-4.1-mini');
    expect(first!.attributes['openai_resilient.traffic_class']).toBe('interactive');
    expect(second!.attributes['openai_resilient.traffic_class']).toBe('default');

    server.enqueue(faults.stall());
    const holder = new AbortController();
    const held = rejectionOf(ai.chat.completions.create(chatParams, { signal: holder.signal }));
    await until(() => server.requests.length === 3);
    const queued = rejectionOf(ai.resilience.forClass('background').chat.completions.create(chatParams));
    await until(() => ai.resilience.load().queued === 1);
    const arriving = ai.resilience.forClass('interactive').chat.completions.create(chatParams);
    expect(await queued).toMatchObject({ kind: 'load_shed' });
    holder.abort();
    await held;
    await arriving;

    const recorded = await metrics();
    const durations = recorded['gen_ai.client.operation.duration']!.map((point) => [point.attributes['openai_resilient.traffic_class'], point.attributes['error.type'], point.value.count]);
    expect(durations).toEqual(expect.arrayContaining([['interactive', undefined, 2], ['default', undefined, 1], ['background', 'load_shed', 1]]));
    expect(recorded['openai_resilient.bulkhead.rejections']!.map((point) => point.attributes)).toEqual([
      { 'openai_resilient.reason': 'shed', 'openai_resilient.traffic_class': 'background' },
    ]);
  });

  it('counts the rate limiter\'s rejections by model, reason and class', async () => {
    const { ai, metrics } = await otelHarness({ rateLimit: { requestsPerMinute: 60, learn: false, maxQueued: 0 } });
    await ai.chat.completions.create(chatParams);
    // The bucket is empty and nobody may wait: the next call is turned away at once.
    await rejectionOf(ai.resilience.forClass('background').chat.completions.create(chatParams));
    const recorded = await metrics();
    expect(recorded['openai_resilient.rate_limit.rejections']!.map((point) => [point.attributes, point.value])).toEqual([
      [{ 'gen_ai.request.model': 'gpt-4.1-mini', 'openai_resilient.reason': 'queue_full', 'openai_resilient.traffic_class': 'background' }, 1],
    ]);
  });
});

describe('openai-resilient/otel: budgets', () => {
  it('counts budget tokens, spend and refusals by limit and model (the tenant only on spans)', async () => {
    const prices = { 'gpt-4.1-mini': { input: 1, output: 2 } };
    const { server, ai, metrics, spans } = await otelHarness({
      budgets: { limits: [{ name: 'tokens', tokens: 1_000, window: 'hour' }, { name: 'spend', spend: 1, window: 'day', per: 'client' }], prices },
    });
    server.enqueue(faults.ok({
      id: 'c', object: 'chat.completion', created: 0, model: 'gpt-4.1-mini',
      choices: [{ index: 0, message: { role: 'assistant', content: 'ok', refusal: null }, finish_reason: 'stop', logprobs: null }],
      usage: { prompt_tokens: 100, completion_tokens: 50, total_tokens: 150 },
    }));
    const tenant = ai.resilience.forTenant('acme');
    await tenant.chat.completions.create({ ...chatParams, max_tokens: 100 });
    await rejectionOf(tenant.chat.completions.create({ ...chatParams, max_tokens: 900 }));
    await until(() => spans.getFinishedSpans().length >= 3);
    const byName = await metrics();
    const attributes = (limit: string, metric: string, per: string) => ({
      'openai_resilient.budget.limit': limit, 'openai_resilient.budget.metric': metric, 'openai_resilient.budget.per': per, 'gen_ai.request.model': 'gpt-4.1-mini',
    });
    expect(byName['openai_resilient.budget.tokens']).toEqual([{ attributes: attributes('tokens', 'tokens', 'tenant'), value: 150 }]);
    // 100 input at 1/M and 50 output at 2/M: 0.0002.
    expect(byName['openai_resilient.budget.spend']).toEqual([{ attributes: attributes('spend', 'spend', 'client'), value: 0.0002 }]);
    expect(byName['openai_resilient.budget.refusals']).toEqual([{ attributes: attributes('tokens', 'tokens', 'tenant'), value: 1 }]);
    const refusedCall = spans.getFinishedSpans().filter((span) => span.name === 'chat gpt-4.1-mini').at(-1)!;
    expect(refusedCall.attributes).toMatchObject({ 'openai_resilient.tenant': 'acme', 'error.type': 'budget_exceeded' });
    expect(refusedCall.events.map((event) => event.name)).toContain('budget_exceeded');
    // Against their limits: the tenant nearest its limit, per limit (150 of 1 000; 0.0002 of 1).
    const utilization = (byName['openai_resilient.budget.utilization'] ?? []).map(({ attributes, value }) => [attributes['openai_resilient.budget.limit'], attributes['openai_resilient.tenant'], value]);
    expect(utilization).toEqual([['tokens', undefined, 0.15], ['spend', undefined, 0.0002]]);
  });

  it('with budgetTenants, reports usage and utilization per tenant; stopping removes the gauge', async () => {
    const { server, ai, metrics, stop } = await otelHarness({ budgets: { limits: [{ name: 'tokens', tokens: 1_000, window: 'hour', tenants: { big: 10_000 } }] } }, {}, { budgetTenants: true });
    const usage = (total: number) => faults.ok({
      id: 'c', object: 'chat.completion', created: 0, model: 'gpt-4.1-mini',
      choices: [{ index: 0, message: { role: 'assistant', content: 'ok', refusal: null }, finish_reason: 'stop', logprobs: null }],
      usage: { prompt_tokens: total - 10, completion_tokens: 10, total_tokens: total },
    });
    server.enqueue(usage(500), usage(1_000));
    await ai.resilience.forTenant('acme').chat.completions.create({ ...chatParams, max_tokens: 100 });
    await ai.resilience.forTenant('big').chat.completions.create({ ...chatParams, max_tokens: 100 });
    await until(() => Object.keys(ai.resilience.stats().budgets['tokens']!.tenants).length === 2 && ai.resilience.stats().budgets['tokens']!.tenants['big']!.used === 1_000);
    const byName = await metrics();
    const tokens = Object.fromEntries(byName['openai_resilient.budget.tokens']!.map(({ attributes, value }) => [attributes['openai_resilient.tenant'], value]));
    expect(tokens).toEqual({ acme: 500, big: 1_000 });
    const utilization = Object.fromEntries(byName['openai_resilient.budget.utilization']!.map(({ attributes, value }) => [attributes['openai_resilient.tenant'], value]));
    expect(utilization).toEqual({ acme: 0.5, big: 0.1 });
    // Once stopped, the gauge no longer reads the client's stats: acme's further usage is not observed.
    stop();
    server.enqueue(usage(400));
    await ai.resilience.forTenant('acme').chat.completions.create({ ...chatParams, max_tokens: 100 });
    await until(() => ai.resilience.stats().budgets['tokens']!.tenants['acme']!.used === 900);
    const after = (await metrics())['openai_resilient.budget.utilization'] ?? [];
    expect(after.every(({ value }) => value !== 0.9)).toBe(true);
  });
});
