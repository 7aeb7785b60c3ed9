import OpenAI from 'openai';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { SpanStatusCode } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { resilient, type ResilientClient, type AttemptEndEvent, type AttemptStartEvent, type RetryEvent } from '../../src/index.js';
import { instrument } from '../../src/otel/index.js';
import { faults } from '../../src/testing/index.js';
import { drive, harness } from '../support/harness.js';
import { answerGate, drivePool, faultServer, memberPool } from '../support/pool-members.js';

const gpt41 = { model: 'gpt-4.1', messages: [{ role: 'user' as const, content: 'Say ok' }] };

/** Rate-limit headers of an answer from a member allowing `requests` per minute. */
function limits(requests: number): Record<string, string> {
  return {
    'x-ratelimit-limit-requests': String(requests),
    'x-ratelimit-remaining-requests': String(requests - 1),
    'x-ratelimit-reset-requests': '60ms',
    'x-ratelimit-limit-tokens': '1000000',
    'x-ratelimit-remaining-tokens': '999000',
    'x-ratelimit-reset-tokens': '60ms',
  };
}

function listen({ resilience }: ResilientClient<OpenAI>) {
  const starts: AttemptStartEvent[] = [];
  const ends: AttemptEndEvent[] = [];
  const retries: RetryEvent[] = [];
  resilience.on('attemptStart', (event) => starts.push(event));
  resilience.on('attemptEnd', (event) => ends.push(event));
  resilience.on('retry', (event) => retries.push(event));
  return { starts, ends, retries };
}

describe('events name the member', () => {
  it('the logger\'s retry line names the member that failed', async () => {
    const lines: { message: string; details: unknown }[] = [];
    const record = (message: string, details: unknown) => lines.push({ message, details });
    const logger = { debug: record, info: record, warn: record, error: record };
    const pool = await memberPool([{}, {}], { pool: { routing: 'ordered' }, logger, logLevel: 'info' });
    pool.servers[0]!.enqueue(faults.serverError(500));
    await drivePool(pool.clock, pool.ai.chat.completions.create(gpt41));
    const retry = lines.find((line) => line.message.includes('retrying in'));
    expect(retry?.message).toMatch(/server_error \(500\) on attempt 1 \(member m0\), retrying in 0 ms \(member\)/);
    expect(retry?.details).toMatchObject({ member: 'm0' });
  });

  it('attemptStart, attemptEnd and retry carry the member the attempt went to', async () => {
    const pool = await memberPool([{}, {}], { pool: { routing: 'ordered' } });
    const { starts, ends, retries } = listen(pool.ai);
    pool.servers[0]!.enqueue(faults.serverError(500));
    await drivePool(pool.clock, pool.ai.chat.completions.create(gpt41));
    expect(starts.map((event) => [event.attempt, event.member])).toEqual([[1, 'm0'], [2, 'm1']]);
    expect(ends.map((event) => [event.attempt, event.member, event.outcome, event.status])).toEqual([
      [1, 'm0', 'failure', 500],
      [2, 'm1', 'success', undefined],
    ]);
    expect(retries.map((event) => [event.attempt, event.member, event.delaySource, event.delay])).toEqual([[1, 'm0', 'member', 0]]);
  });

  it('a single client\'s events have no member', async () => {
    const { server, clock, ai } = await harness();
    const { starts, ends, retries } = listen(ai);
    server.enqueue(faults.serverError(500));
    await drive(clock, ai.chat.completions.create(gpt41));
    for (const event of [...starts, ...ends, ...retries]) expect('member' in event).toBe(false);
    expect(starts.length).toBeGreaterThan(0);
  });

  it('a member is named by its host by default, made unique when several share one', async () => {
    const server = await faultServer();
    const keys = ['sk-a', 'sk-b', 'sk-c'].map((apiKey) => new OpenAI({ apiKey, baseURL: server.url, maxRetries: 0 }));
    const ai = resilient([keys[0]!, keys[1]!, { client: keys[2]!, name: 'third' }], { rateLimit: false, bulkhead: false });
    const host = new URL(server.url).host;
    expect(Object.keys(ai.resilience.stats().members!)).toEqual([host, `${host}#2`, 'third']);
    const starts: AttemptStartEvent[] = [];
    ai.resilience.on('attemptStart', (event) => starts.push(event));
    await ai.chat.completions.create(gpt41);
    const key = server.requests[0]!.headers['authorization'];
    expect(starts[0]!.member).toBe({ 'Bearer sk-a': host, 'Bearer sk-b': `${host}#2`, 'Bearer sk-c': 'third' }[key!]);
  });
});

describe('stats().members', () => {
  it('counts each member\'s requests, failures and calls in flight, and its latency on the pipeline\'s clock', async () => {
    const gate = answerGate();
    const pool = await memberPool([{ fetch: gate.fetch }, {}], { pool: { routing: 'ordered' } });
    pool.servers[0]!.enqueue(faults.serverError(500));
    await drivePool(pool.clock, pool.ai.chat.completions.create(gpt41));
    expect(pool.ai.resilience.stats().members).toEqual({
      m0: { requests: 1, failures: 1, inFlight: 0, latency: undefined, circuits: {}, rateLimits: {} },
      m1: { requests: 1, failures: 0, inFlight: 0, latency: 0, circuits: {}, rateLimits: {} },
    });

    // An answer held 250 ms (on the fake clock) is in flight meanwhile, and its latency is 250 ms.
    gate.shut();
    const held = pool.ai.chat.completions.create(gpt41);
    await pool.servers[0]!.waitForRequests(2);
    expect(pool.ai.resilience.stats().members!['m0']).toMatchObject({ requests: 1, inFlight: 1 });
    await pool.clock.advance(250);
    gate.open();
    await held;
    expect(pool.ai.resilience.stats().members!['m0']).toMatchObject({ requests: 2, failures: 1, inFlight: 0, latency: 250 });
  });

  it('has each member\'s own circuits (by model) and rate limits learned from its own headers', async () => {
    const pool = await memberPool([{}, {}, {}], {
      pool: { routing: 'ordered' },
      rateLimit: {},
      circuitBreaker: { consecutiveFailures: 1, halfOpenAfter: 60_000 },
    });
    pool.servers[0]!.enqueue(faults.serverError(500));
    pool.servers[1]!.enqueue(faults.ok(undefined, limits(600)));
    await drivePool(pool.clock, pool.ai.chat.completions.create(gpt41));
    // m0 is open: the next call goes to m1 (learned limits), the retry of a 429 there to m2.
    pool.servers[1]!.enqueue(faults.rateLimited({ retryAfterMs: 2_000, limitRequests: 600 }));
    pool.servers[2]!.enqueue(faults.ok(undefined, limits(1200)));
    await drivePool(pool.clock, pool.ai.chat.completions.create(gpt41));
    expect(pool.received()).toEqual([1, 2, 1]);

    const { members } = pool.ai.resilience.stats();
    expect(members!['m0']).toMatchObject({ requests: 1, failures: 1, circuits: { 'gpt-4.1': 'open' } });
    expect(members!['m1']).toMatchObject({ requests: 2, failures: 1, circuits: { 'gpt-4.1': 'closed' } });
    expect(members!['m1']!.rateLimits['gpt-4.1']).toMatchObject({ requestsPerMinute: 600, pausedUntil: pool.clock.now() + 2_000 });
    expect(members!['m2']!.rateLimits['gpt-4.1']).toMatchObject({ requestsPerMinute: 1200 });
    expect(members!['m2']!.rateLimits['gpt-4.1']!.pausedUntil ?? 0).toBeLessThanOrEqual(pool.clock.now());
    expect(members!['m0']!.rateLimits['gpt-4.1']!.requestsPerMinute).toBeUndefined();
  });

  it('circuits() keys are <member>/<model>', async () => {
    const pool = await memberPool([{}, {}], {
      pool: { routing: 'ordered' },
      retry: { maxRetries: 0 },
      circuitBreaker: { consecutiveFailures: 1, halfOpenAfter: 60_000 },
    });
    pool.servers[0]!.enqueue(faults.serverError(500));
    await expect(pool.ai.chat.completions.create(gpt41)).rejects.toBeInstanceOf(OpenAI.InternalServerError);
    await pool.ai.chat.completions.create(gpt41);
    await pool.ai.chat.completions.create({ ...gpt41, model: 'gpt-4.1-mini' });
    expect(pool.ai.resilience.circuits()).toEqual({ 'm0/gpt-4.1': 'open', 'm1/gpt-4.1': 'closed', 'm0/gpt-4.1-mini': 'closed' });
  });
});

describe('OpenTelemetry', () => {
  it('attempt spans carry openai_resilient.member; retry span events too', async () => {
    const pool = await memberPool([{}, {}], { pool: { routing: 'ordered' } });
    const spans = new InMemorySpanExporter();
    const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }).getTracer('test');
    const stop = instrument(pool.ai, { tracer });
    pool.servers[0]!.enqueue(faults.serverError(500));
    await drivePool(pool.clock, pool.ai.chat.completions.create(gpt41));
    stop();
    const finished = spans.getFinishedSpans();
    const attempts = finished.filter((span) => span.name.startsWith('attempt'));
    expect(attempts.map((span) => [span.name, span.attributes['openai_resilient.member'], span.status.code])).toEqual([
      ['attempt 1', 'm0', SpanStatusCode.ERROR],
      ['attempt 2', 'm1', SpanStatusCode.UNSET],
    ]);
    const call = finished.find((span) => span.name === 'chat gpt-4.1')!;
    expect(call.events.map((event) => [event.name, event.attributes?.['openai_resilient.member']])).toEqual([['retry', 'm0']]);
  });
});
