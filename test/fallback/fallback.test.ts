import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { chatCompletion, faults, startFaultServer, type Fault, type FaultServer } from '../../src/testing/index.js';
import {
  DeadlineExceededError,
  fallbackFailuresOf,
  resilient,
  TRAFFIC_CLASS_HEADER,
  type FallbackEvent,
  type ResilienceOptions,
} from '../../src/index.js';
import { chatParams, drive, harness, rejectionOf, until } from '../support/harness.js';

const primary = { ...chatParams, model: 'gpt-4.1' };
const models = { 'gpt-4.1': ['gpt-4.1-mini'] };

function modelsSent(server: FaultServer): string[] {
  return server.requestsTo('/chat/completions').map((request) => (request.body as { model: string }).model);
}

async function withFallback(options: ResilienceOptions['fallback'], extra: ResilienceOptions = {}) {
  const h = await harness({ ...extra, fallback: options });
  const events: FallbackEvent[] = [];
  h.ai.resilience.on('fallback', (event) => events.push(event));
  return { ...h, events };
}

const others: FaultServer[] = [];
afterEach(async () => {
  await Promise.all(others.splice(0).map((server) => server.close()));
});

describe('fallback to other models', () => {
  it('falls back after retries give up on a server error; the answer says who answered', async () => {
    const { server, clock, ai, events } = await withFallback({ models });
    server.enqueue(faults.serverError(500), faults.serverError(500), faults.serverError(500));
    const completion = await drive(clock, ai.chat.completions.create(primary));
    expect(completion.model).toBe('gpt-4.1-mini');
    expect(modelsSent(server)).toEqual(['gpt-4.1', 'gpt-4.1', 'gpt-4.1', 'gpt-4.1-mini']);
    expect(events).toEqual([
      expect.objectContaining({ step: 1, from: 'gpt-4.1', to: 'gpt-4.1-mini', target: 'model', reason: 'server_error' }),
    ]);
    const stats = ai.resilience.stats();
    expect(stats.total).toMatchObject({ calls: 1, successes: 1, fallbacks: 1, retries: 2 });
    // The call and its retries count for the model asked for; the answer's tokens for the model that gave it.
    expect(stats.models['gpt-4.1']).toMatchObject({ calls: 1, fallbacks: 1, retries: 2, usage: { totalTokens: 0 } });
    expect(stats.models['gpt-4.1-mini']).toMatchObject({ calls: 0, retries: 0 });
    expect(stats.models['gpt-4.1-mini']!.usage.totalTokens).toBeGreaterThan(0);
  });

  it('falls back at once on insufficient_quota', async () => {
    const { server, clock, ai } = await withFallback({ models });
    server.enqueue(faults.insufficientQuota());
    expect((await drive(clock, ai.chat.completions.create(primary))).model).toBe('gpt-4.1-mini');
    expect(modelsSent(server)).toEqual(['gpt-4.1', 'gpt-4.1-mini']);
  });

  it.each<[string, () => Fault]>([
    ['bad_request', () => faults.badRequest()],
    ['authentication', () => faults.unauthorized()],
    ['permission_denied', () => faults.forbidden()],
    ['unprocessable', () => faults.unprocessable()],
  ])('never falls back on %s', async (_kind, fault) => {
    const { server, clock, ai, events } = await withFallback({ models, value: () => chatCompletion({ id: 'x', model: 'v' }) as never });
    server.enqueue(fault());
    await rejectionOf(drive(clock, ai.chat.completions.create(primary)));
    expect(modelsSent(server)).toEqual(['gpt-4.1']);
    expect(events).toEqual([]);
  });

  it('never falls back on the caller abort', async () => {
    const { server, ai, events } = await withFallback({ models });
    server.enqueue(faults.stall());
    const controller = new AbortController();
    const call = rejectionOf(ai.chat.completions.create(primary, { signal: controller.signal }));
    await until(() => server.requests.length === 1);
    controller.abort();
    expect(await call).toBeInstanceOf(OpenAI.APIUserAbortError);
    expect(events).toEqual([]);
    expect(modelsSent(server)).toEqual(['gpt-4.1']);
  });

  it('context_length_exceeded goes only to the contextWindow models', async () => {
    const { server, clock, ai, events } = await withFallback({ models, contextWindow: { 'gpt-4.1': ['gpt-4.1-long'] } });
    server.enqueue(faults.contextLengthExceeded());
    expect((await drive(clock, ai.chat.completions.create(primary))).model).toBe('gpt-4.1-long');
    expect(modelsSent(server)).toEqual(['gpt-4.1', 'gpt-4.1-long']);
    expect(events[0]).toMatchObject({ reason: 'context_length_exceeded', to: 'gpt-4.1-long' });

    const { ai: noList, server: other } = await withFallback({ models });
    other.enqueue(faults.contextLengthExceeded());
    await rejectionOf(noList.chat.completions.create(primary));
    expect(modelsSent(other)).toEqual(['gpt-4.1']);
  });

  it('not_found falls back only when it is about the model', async () => {
    const { server, clock, ai } = await withFallback({ models });
    server.enqueue(faults.notFound({ model: 'gpt-4.1' }));
    expect((await drive(clock, ai.chat.completions.create(primary))).model).toBe('gpt-4.1-mini');
    server.enqueue(faults.status(404, { code: 'not_found', message: 'No such file: file-abc' }));
    await rejectionOf(drive(clock, ai.chat.completions.create(primary)));
    expect(modelsSent(server)).toEqual(['gpt-4.1', 'gpt-4.1-mini', 'gpt-4.1']);
  });

  it('falls back while the primary circuit is open, sending nothing to the primary', async () => {
    const { server, ai } = await withFallback({ models }, { circuitBreaker: { consecutiveFailures: 1 }, retry: { maxRetries: 0 } });
    server.enqueue(faults.serverError(500));
    await ai.chat.completions.create(primary);
    const completion = await ai.chat.completions.create(primary);
    expect(completion.model).toBe('gpt-4.1-mini');
    expect(modelsSent(server)).toEqual(['gpt-4.1', 'gpt-4.1-mini', 'gpt-4.1-mini']);
    expect(ai.resilience.circuits()).toMatchObject({ 'gpt-4.1': 'open', 'gpt-4.1-mini': 'closed' });
  });
});

describe('fallback to other clients', () => {
  it('tries other clients in order, each through its own policies, with a model mapping', async () => {
    const second = await startFaultServer();
    const third = await startFaultServer();
    others.push(second, third);
    const { server, clock, ai, events } = await withFallback({
      models,
      clients: [
        new OpenAI({ apiKey: 'sk-second', baseURL: second.url }),
        { client: resilient(new OpenAI({ apiKey: 'sk-third', baseURL: third.url }), { retry: false }), model: 'their-gpt' },
      ],
    }, { retry: { maxRetries: 0 } });
    server.enqueue(faults.overloaded(), faults.overloaded());
    second.enqueue(faults.badRequest());
    const completion = await drive(clock, ai.chat.completions.create(primary));
    expect(completion.model).toBe('their-gpt');
    expect(modelsSent(server)).toEqual(['gpt-4.1', 'gpt-4.1-mini']);
    expect(modelsSent(second)).toEqual(['gpt-4.1']);
    expect(modelsSent(third)).toEqual(['their-gpt']);
    expect(third.requests[0]!.headers['authorization']).toBe('Bearer sk-third');
    expect(events.map((event) => [event.target, event.to, event.client])).toEqual([
      ['model', 'gpt-4.1-mini', undefined],
      ['client', 'gpt-4.1', 0],
      ['client', 'their-gpt', 1],
    ]);
  });

  it('when every target fails, the caller gets the primary error with the others attached', async () => {
    const second = await startFaultServer();
    others.push(second);
    const { server, clock, ai } = await withFallback(
      { models, clients: [resilient(new OpenAI({ apiKey: 'k', baseURL: second.url }), { retry: false })] },
      { retry: { maxRetries: 0 } },
    );
    server.enqueue(faults.serverError(502), faults.unauthorized());
    second.enqueue(faults.insufficientQuota());
    const error = await rejectionOf(drive(clock, ai.chat.completions.create(primary)));
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect(error.status).toBe(502);
    expect(fallbackFailuresOf(error).map((failure) => [failure.model, failure.client, failure.kind])).toEqual([
      ['gpt-4.1-mini', undefined, 'authentication'],
      ['gpt-4.1', 0, 'quota_exhausted'],
    ]);
    expect(error.fallbackFailures).toHaveLength(2);
  });

  it('stays within the call deadline', async () => {
    const second = await startFaultServer();
    others.push(second);
    const { server, clock, ai } = await withFallback(
      { clients: [new OpenAI({ apiKey: 'k', baseURL: second.url })] },
      { retry: { maxRetries: 0 }, timeout: { total: 5_000 } },
    );
    server.enqueue(faults.serverError(500));
    second.enqueue(faults.stall());
    const call = rejectionOf(ai.chat.completions.create(primary));
    await until(() => second.requests.length === 1);
    await clock.advance(5_000);
    const error = await call;
    expect(error).toBeInstanceOf(DeadlineExceededError);
    await until(() => second.openRequests === 0);
  });
});

describe('fallback clients and traffic classes', () => {
  it("a fallback client's call keeps the class of the call that fell back (its header or its view), and never sends it", async () => {
    const second = await startFaultServer();
    others.push(second);
    const fallbackClient = resilient(new OpenAI({ apiKey: 'k', baseURL: second.url }), { retry: false });
    const fallbackClasses: string[] = [];
    fallbackClient.resilience.on('callStart', (event) => fallbackClasses.push(event.trafficClass));
    const { server, clock, ai } = await withFallback({ clients: [fallbackClient.resilience.forClass('background')] }, { retry: { maxRetries: 0 } });
    server.enqueue(faults.serverError(500), faults.serverError(500), faults.serverError(500), faults.serverError(500));
    await drive(clock, ai.chat.completions.create(primary, { headers: { [TRAFFIC_CLASS_HEADER]: 'interactive', 'x-kept': 'yes' } }));
    await drive(clock, ai.resilience.forClass('interactive').chat.completions.create(primary));
    await drive(clock, ai.chat.completions.create(primary, { headers: new Headers({ [TRAFFIC_CLASS_HEADER]: 'interactive' }) }));
    // A call of the default class leaves the fallback view's own class (here `background`) in force.
    await drive(clock, ai.chat.completions.create(primary));
    expect(fallbackClasses).toEqual(['interactive', 'interactive', 'interactive', 'background']);
    expect(second.requests).toHaveLength(4);
    for (const request of [...server.requests, ...second.requests]) {
      expect(Object.keys(request.headers).filter((name) => name.includes('resilient'))).toEqual([]);
    }
    expect(second.requests[0]!.headers['x-kept']).toBe('yes');
  });
});

describe('last-resort value', () => {
  const friendly = (request: { model: string | undefined }) =>
    chatCompletion({ id: 'chatcmpl-fallback', model: request.model ?? 'none', content: 'Sorry, try again later.' }) as unknown as OpenAI.Chat.ChatCompletion;

  it('answers with a hand-made result only after every target failed', async () => {
    const { server, clock, ai, events } = await withFallback({ models, value: (request) => friendly(request) }, { retry: { maxRetries: 0 } });
    server.enqueue(faults.serverError(500), faults.serverError(500));
    const { data, response } = await drive(clock, ai.chat.completions.create(primary).withResponse());
    expect(data.choices[0]!.message.content).toBe('Sorry, try again later.');
    expect(response.headers.get('x-openai-resilient-source')).toBe('fallback-value');
    expect(modelsSent(server)).toEqual(['gpt-4.1', 'gpt-4.1-mini']);
    expect(events.map((event) => [event.target, event.from, event.to])).toEqual([
      ['model', 'gpt-4.1', 'gpt-4.1-mini'],
      ['value', 'gpt-4.1', 'fallback-value'],
    ]);
  });

  it('a client step of a request without a model names the client', async () => {
    const second = await startFaultServer();
    others.push(second);
    const { server, clock, ai, events } = await withFallback({ clients: [new OpenAI({ apiKey: 'k', baseURL: second.url })] }, { retry: { maxRetries: 0 } });
    server.enqueue(faults.serverError(500));
    await drive(clock, ai.models.list());
    expect(events.map((event) => [event.target, event.from, event.to, event.client])).toEqual([['client', undefined, 'client 0', 0]]);
  });

  it('is replayed as a stream for stream: true', async () => {
    const { server, ai } = await withFallback({ value: (request) => friendly(request) }, { retry: { maxRetries: 0 } });
    server.enqueue(faults.serverError(500));
    const stream = await ai.chat.completions.create({ ...primary, stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe('Sorry, try again later.');
  });

  it('returning undefined lets the error through', async () => {
    const { server, ai } = await withFallback({ value: () => undefined }, { retry: { maxRetries: 0 } });
    server.enqueue(faults.serverError(500));
    expect(await rejectionOf(ai.chat.completions.create(primary))).toBeInstanceOf(OpenAI.InternalServerError);
  });
});

describe('fallback.on: kinds that fall back besides the defaults', () => {
  it('a bad_request falls back only when `on` lists it; the default kinds still fall back', async () => {
    const plain = await harness({ fallback: { models: { 'gpt-4.1-mini': ['gpt-4.1'] } } });
    plain.server.enqueue(faults.badRequest());
    await rejectionOf(plain.ai.chat.completions.create(chatParams));
    expect(plain.server.requests).toHaveLength(1);

    const { server, clock, ai } = await harness({ fallback: { models: { 'gpt-4.1-mini': ['gpt-4.1'] }, on: ['bad_request'] }, retry: { maxRetries: 0 } });
    server.enqueue(faults.badRequest());
    await ai.chat.completions.create(chatParams);
    server.enqueue(faults.serverError(500));
    await drive(clock, ai.chat.completions.create(chatParams));
    expect(server.requests.map((request) => (request.body as { model: string }).model)).toEqual(['gpt-4.1-mini', 'gpt-4.1', 'gpt-4.1-mini', 'gpt-4.1']);
  });
});

describe('fallback options', () => {
  it('rejects invalid options with a TypeError naming them', () => {
    const client = new OpenAI({ apiKey: 'k', baseURL: 'http://127.0.0.1:9/v1' });
    expect(() => resilient(client, { fallback: { models: { a: 'b' as never } } })).toThrow(/`fallback.models.a`/);
    expect(() => resilient(client, { fallback: { clients: [{} as never] } })).toThrow(/`fallback.clients\[0\]`/);
    expect(() => resilient(client, { fallback: { value: 'x' as never } })).toThrow(/`fallback.value`/);
  });
});
