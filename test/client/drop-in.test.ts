import OpenAI, { AzureOpenAI } from 'openai';
import { describe, expect, it } from 'vitest';
import { chatCompletion, faults, startFaultServer, vectorStoreFileObject } from '../../src/testing/index.js';
import { resilient, type RetryEvent } from '../../src/index.js';
import { chatParams, drive, harness, rejectionOf } from '../support/harness.js';

describe('a drop-in client', () => {
  it('is an instance of the same class and leaves the original client untouched', async () => {
    const { raw, ai } = await harness();
    expect(ai).toBeInstanceOf(OpenAI);
    expect(ai).not.toBe(raw);
    expect(Object.keys(raw)).not.toContain('resilience');
    expect((raw as any).makeRequest).toBe((OpenAI.prototype as any).makeRequest);
    expect(ai.baseURL).toBe(raw.baseURL);
    expect(ai.maxRetries).toBe(0);
  });

  it('keeps asResponse() and withResponse()', async () => {
    const { server, clock, ai } = await harness();
    server.enqueue(faults.serverError(500));
    const response = await drive(clock, ai.chat.completions.create(chatParams).asResponse());
    expect(response).toBeInstanceOf(Response);
    expect((await response.json()).object).toBe('chat.completion');
    const { data, request_id } = await drive(clock, ai.models.list().withResponse());
    expect(request_id).toMatch(/^req_/);
    expect(data.data.length).toBeGreaterThan(0);
    expect(server.requests).toHaveLength(3);
  });

  it('retries next-page requests of pagination', async () => {
    const { server, clock, ai } = await harness();
    server.enqueue(faults.ok(), faults.serverError(502));
    const ids: string[] = [];
    await drive(clock, (async () => {
      for await (const file of ai.files.list({ limit: 2 })) ids.push(file.id);
    })());
    expect(ids).toEqual(['file-1', 'file-2', 'file-3', 'file-4', 'file-5']);
    expect(server.requestsTo('/files').map((request) => request.query['after'] ?? '-')).toEqual(['-', 'file-2', 'file-2', 'file-4']);
  });

  it('refuses a client that is already resilient, and anything that is not a client', async () => {
    const { ai } = await harness();
    expect(() => resilient(ai)).toThrow(TypeError);
    expect(() => resilient({} as OpenAI)).toThrow(/must be an OpenAI client/);
  });
});

describe('requests made inside SDK helpers', () => {
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
    const content = await drive(clock, runner.finalContent());
    expect(content).toBe('ok');
    expect(server.requestsTo('/chat/completions')).toHaveLength(3);
  });

  it('responses.stream()', async () => {
    const { server, clock, ai } = await harness();
    server.enqueue(faults.reset());
    const stream = ai.responses.stream({ model: 'gpt-4.1-mini', input: 'hi' });
    const final = await drive(clock, stream.finalResponse());
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
});

describe('withOptions()', () => {
  it('returns a resilient client that shares listeners and takes maxRetries/timeout as its own', async () => {
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
  });

  it('rejects an invalid maxRetries or timeout with a TypeError', async () => {
    const { ai } = await harness();
    expect(() => ai.withOptions({ maxRetries: -1 })).toThrow(/`withOptions\(\{ maxRetries \}\)`/);
    expect(() => ai.withOptions({ timeout: 0 })).toThrow(TypeError);
  });
});

describe('AzureOpenAI', () => {
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
      expect(ai.withOptions({ maxRetries: 0 })).toBeInstanceOf(AzureOpenAI);
    } finally {
      await server.close();
    }
  });
});
