import OpenAI, { AzureOpenAI } from 'openai';
import { describe, expect, it } from 'vitest';
import { chatCompletion, faults, startFaultServer, vectorStoreFileObject } from '../../src/testing/index.js';
import { resilient, type RetryEvent } from '../../src/index.js';
import { chatParams, drive, harness, rejectionOf } from '../support/harness.js';

// Smoke suite: run against openai 5, 6 and 7 by .ci/sdk-matrix.sh (and on the devDependency by `npm test`).

describe('smoke: a drop-in client', () => {
  it('is an instance of the same class, and leaves the original client untouched', async () => {
    const { raw, ai } = await harness();
    expect(ai).toBeInstanceOf(OpenAI);
    expect(ai.constructor).toBe(OpenAI);
    expect(ai).not.toBe(raw);
    expect(Object.keys(raw)).not.toContain('resilience');
    expect((raw as any).makeRequest).toBe((OpenAI.prototype as any).makeRequest);
    expect(ai.baseURL).toBe(raw.baseURL);
    expect(ai.maxRetries).toBe(0);
    expect(() => resilient(ai)).toThrow(TypeError);
    expect(() => resilient({} as OpenAI)).toThrow(/must be an OpenAI client/);
  });

  it('keeps asResponse() and withResponse()', async () => {
    const { server, clock, ai } = await harness();
    server.enqueue(faults.serverError(500));
    const response = await drive(clock, ai.chat.completions.create(chatParams).asResponse());
    expect(response).toBeInstanceOf(Response);
    expect((await response.json()).object).toBe('chat.completion');
    const { data, response: raw, request_id } = await drive(clock, ai.models.list().withResponse());
    expect(raw.status).toBe(200);
    expect(request_id).toMatch(/^req_/);
    expect(data.data.length).toBeGreaterThan(0);
    expect(server.requests).toHaveLength(3);
  });

  it('retries a next-page request of pagination', async () => {
    const { server, clock, ai } = await harness();
    server.enqueue(faults.ok(), faults.serverError(502));
    const ids: string[] = [];
    await drive(clock, (async () => {
      for await (const file of ai.files.list({ limit: 2 })) ids.push(file.id);
    })());
    expect(ids).toEqual(['file-1', 'file-2', 'file-3', 'file-4', 'file-5']);
    expect(server.requestsTo('/files').map((request) => request.query['after'] ?? '-')).toEqual(['-', 'file-2', 'file-2', 'file-4']);
  });

  it('retries through getNextPage() too', async () => {
    const { server, clock, ai } = await harness();
    const first = await ai.files.list({ limit: 2 });
    expect(first.hasNextPage()).toBe(true);
    server.enqueue(faults.overloaded());
    const second = await drive(clock, first.getNextPage());
    expect(second.data.map((file) => file.id)).toEqual(['file-3', 'file-4']);
    expect(server.requestsTo('/files')).toHaveLength(3);
  });

  it('sends raw requests (client.post) through the pipeline', async () => {
    const { server, clock, ai } = await harness();
    server.enqueue(faults.serverError(500));
    const completion = await drive(clock, ai.post<OpenAI.Chat.ChatCompletion>('/chat/completions', { body: chatParams }));
    expect(completion.object).toBe('chat.completion');
    expect(server.requests).toHaveLength(2);
  });
});

describe('smoke: requests made inside SDK helpers', () => {
  it('chat.completions.stream()', async () => {
    const { server, clock, ai } = await harness();
    server.enqueue(faults.serverError(500));
    const runner = ai.chat.completions.stream(chatParams);
    const final = await drive(clock, runner.finalChatCompletion());
    expect(final.choices[0]!.message.content).toBeTruthy();
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1]!.headers['x-stainless-helper-method']).toBe('stream');
  });

  it('chat.completions.parse()', async () => {
    const { server, clock, ai } = await harness();
    server.enqueue(faults.overloaded(), faults.ok(chatCompletion({ id: 'chatcmpl-1', model: 'gpt-4.1-mini', content: '{"answer":42}' })));
    const completion = await drive(clock, ai.chat.completions.parse({
      ...chatParams,
      response_format: { type: 'json_schema', json_schema: { name: 'a', schema: { type: 'object', properties: { answer: { type: 'number' } } } } },
    }));
    expect(completion.choices[0]!.message.parsed).toEqual({ answer: 42 });
    expect(server.requests).toHaveLength(2);
  });

  it('chat.completions.runTools()', async () => {
    const { server, clock, ai } = await harness();
    const toolCall = chatCompletion({ id: 'chatcmpl-1', model: 'gpt-4.1-mini' }) as any;
    toolCall.choices[0].message = {
      role: 'assistant', content: null, refusal: null,
      tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'add', arguments: '{"a":1,"b":2}' } }],
    };
    toolCall.choices[0].finish_reason = 'tool_calls';
    server.enqueue(faults.ok(toolCall), faults.serverError(503), faults.ok());
    const runner = ai.chat.completions.runTools({
      ...chatParams,
      tools: [{ type: 'function', function: { name: 'add', description: 'Adds a and b', parameters: { type: 'object', properties: {} }, function: (args: { a: number; b: number }) => args.a + args.b, parse: JSON.parse } }],
    });
    expect(await drive(clock, runner.finalContent())).toBe('ok');
    expect(server.requestsTo('/chat/completions')).toHaveLength(3);
  });

  it('responses.stream()', async () => {
    const { server, clock, ai } = await harness();
    server.enqueue(faults.reset());
    const final = await drive(clock, ai.responses.stream({ model: 'gpt-4.1-mini', input: 'hi' }).finalResponse());
    expect(final.status).toBe('completed');
    expect(server.requestsTo('/responses')).toHaveLength(2);
  });

  it('*AndPoll helpers retry their polling requests', async () => {
    const { server, clock, ai } = await harness();
    server.enqueueFor(/^\/vector_stores\/vs_1\/files\/file-1$/,
      faults.ok(vectorStoreFileObject('vs_1', 'file-1', 'in_progress')),
      faults.serverError(500));
    const file = await drive(clock, ai.vectorStores.files.createAndPoll('vs_1', { file_id: 'file-1' }, { pollIntervalMs: 1 }));
    expect(file.status).toBe('completed');
    expect(server.requestsTo(/^\/vector_stores\/vs_1\/files\/file-1$/)).toHaveLength(3);
  });

  it('embeddings.create()', async () => {
    const { server, clock, ai } = await harness();
    server.enqueue(faults.reset());
    const result = await drive(clock, ai.embeddings.create({ model: 'text-embedding-3-small', input: 'hi' }));
    expect(result.data[0]!.embedding.length).toBeGreaterThan(0);
    expect(server.requests).toHaveLength(2);
  });
});

describe('smoke: withOptions()', () => {
  it('returns a resilient client of the same class that shares listeners and takes maxRetries as its own', async () => {
    const { server, clock, ai } = await harness();
    const retries: RetryEvent[] = [];
    ai.resilience.on('retry', (event) => retries.push(event));
    const noRetries = ai.withOptions({ maxRetries: 0 });
    expect(noRetries).toBeInstanceOf(OpenAI);
    expect(noRetries.resilience).toBeDefined();
    server.enqueue(faults.serverError(500));
    await rejectionOf(drive(clock, noRetries.chat.completions.create(chatParams)));
    expect(server.requests).toHaveLength(1);

    const derived = noRetries.withOptions({ maxRetries: 1, defaultHeaders: { 'x-team': 'a' } });
    server.enqueue(faults.serverError(500));
    await drive(clock, derived.chat.completions.create(chatParams));
    expect(server.requests).toHaveLength(3);
    expect(server.requests[2]!.headers['x-team']).toBe('a');
    expect(retries).toHaveLength(1);
    expect(() => ai.withOptions({ maxRetries: -1 })).toThrow(/`withOptions\(\{ maxRetries \}\)`/);
  });
});

describe('smoke: AzureOpenAI', () => {
  it('keeps its class and URL layout, and retries through the pipeline', async () => {
    const server = await startFaultServer();
    try {
      const azure = new AzureOpenAI({ endpoint: server.origin, apiKey: 'azure-key', apiVersion: '2024-10-21', deployment: 'my-dep' });
      const ai = resilient(azure, { retry: { initialDelay: 1, jitter: false } });
      expect(ai).toBeInstanceOf(AzureOpenAI);
      server.enqueue(faults.overloaded());
      const completion = await ai.chat.completions.create(chatParams);
      expect(completion.object).toBe('chat.completion');
      const requests = server.requestsTo('/chat/completions');
      expect(requests).toHaveLength(2);
      expect(requests.every((request) => request.deployment === 'my-dep' && request.query['api-version'] === '2024-10-21')).toBe(true);
      expect(requests[1]!.headers['api-key']).toBe('azure-key');

      const derived = ai.withOptions({ maxRetries: 0 });
      expect(derived).toBeInstanceOf(AzureOpenAI);
      await derived.chat.completions.create(chatParams);
      const last = server.requestsTo('/chat/completions').at(-1)!;
      expect(last.deployment).toBe('my-dep');
      expect(last.query['api-version']).toBe('2024-10-21');
      expect(last.headers['api-key']).toBe('azure-key');
    } finally {
      await server.close();
    }
  });

  it('keeps an Entra ID token provider', async () => {
    const server = await startFaultServer();
    try {
      let issued = 0;
      const azure = new AzureOpenAI({ endpoint: server.origin, azureADTokenProvider: async () => `entra-${++issued}`, apiVersion: '2024-10-21', deployment: 'my-dep' });
      const ai = resilient(azure, { retry: { initialDelay: 1, jitter: false } });
      server.enqueue(faults.serverError(500));
      await ai.chat.completions.create(chatParams);
      await ai.withOptions({ maxRetries: 0 }).chat.completions.create(chatParams);
      const requests = server.requestsTo('/chat/completions');
      expect(requests.map((request) => request.headers['authorization'])).toEqual(['Bearer entra-1', 'Bearer entra-2', 'Bearer entra-3']);
      expect(requests.every((request) => request.deployment === 'my-dep' && request.query['api-version'] === '2024-10-21')).toBe(true);
    } finally {
      await server.close();
    }
  });
});
