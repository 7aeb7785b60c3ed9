import { describe, it, expect, beforeAll, afterAll, beforeEach } from 'vitest';
import OpenAI, { AzureOpenAI, toFile } from 'openai';
import { faults, startFaultServer, type FaultServer } from '../../src/testing/index.js';

let server: FaultServer;
let client: OpenAI;
const chat = (c: OpenAI = client) => c.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
const caught = (p: Promise<unknown>): Promise<unknown> => p.then(() => expect.unreachable('expected a rejection'), (e: unknown) => e);

beforeAll(async () => {
  server = await startFaultServer();
  client = new OpenAI({ apiKey: 'sk-test', baseURL: server.url, maxRetries: 0 });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

describe('default successes', () => {
  it('answers chat completions with a realistic body and headers, and records the request', async () => {
    const { data, response } = await chat().withResponse();
    expect(data.object).toBe('chat.completion');
    expect(data.id).toMatch(/^chatcmpl-\d+$/);
    expect(data.model).toBe('gpt-4o');
    expect(data.choices[0]?.message.content).toBe('ok');
    expect(data.choices[0]?.finish_reason).toBe('stop');
    expect(data.usage?.total_tokens).toBe((data.usage?.prompt_tokens ?? 0) + (data.usage?.completion_tokens ?? 0));
    expect(response.headers.get('x-request-id')).toMatch(/^req_\d+$/);
    expect(response.headers.get('openai-processing-ms')).toMatch(/^\d+$/);
    expect(response.headers.get('x-ratelimit-remaining-requests')).toBe('499');
    expect(response.headers.get('x-ratelimit-reset-tokens')).toBe('300ms');

    const [req] = server.requests;
    expect(req).toMatchObject({ method: 'POST', path: '/chat/completions', rawPath: '/v1/chat/completions' });
    expect(req?.body).toEqual({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    expect(req?.headers['authorization']).toBe('Bearer sk-test');
    expect(req?.requestId).toBe(response.headers.get('x-request-id'));
    expect(server.requestsTo('/v1/chat/completions')).toHaveLength(1);
  });

  it('answers responses, embeddings (base64 and float) and models', async () => {
    const resp = await client.responses.create({ model: 'gpt-4o-mini', input: 'hi' });
    expect(resp).toMatchObject({ object: 'response', status: 'completed', model: 'gpt-4o-mini' });
    expect(resp.output_text).toBe('ok');

    const b64 = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'] });
    expect(b64.data.map((d) => d.embedding.length)).toEqual([8, 8]);
    const floats = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'a', encoding_format: 'float' });
    expect(floats.data).toHaveLength(1);
    expect(b64.data[0]?.embedding[0]).toBeCloseTo(floats.data[0]!.embedding[0]!, 4);

    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toContain('gpt-4o');
    expect((await client.models.retrieve('gpt-4o-mini')).id).toBe('gpt-4o-mini');
  });

  it('paginates files, fine-tuning jobs and batches with cursors', async () => {
    const ids: string[] = [];
    for await (const file of client.files.list({ limit: 2 })) ids.push(file.id);
    expect(ids).toEqual(['file-1', 'file-2', 'file-3', 'file-4', 'file-5']);
    expect(server.requestsTo('/files').map((r) => r.query)).toEqual([
      { limit: '2' },
      { limit: '2', after: 'file-2' },
      { limit: '2', after: 'file-4' },
    ]);
    const jobs = await client.fineTuning.jobs.list({ limit: 3 });
    expect(jobs.data.map((j) => j.id)).toEqual(['ftjob-1', 'ftjob-2', 'ftjob-3']);
    expect(jobs.hasNextPage()).toBe(true);
    const batches = await client.batches.list({ after: 'batch_4' });
    expect(batches.data.map((b) => b.id)).toEqual(['batch_5']);
    expect(batches.hasNextPage()).toBe(false);
  });

  it('uploads files (multipart) and tracks vector store files', async () => {
    const file = await client.files.create({ file: await toFile(Buffer.from('{}\n'), 'train.jsonl'), purpose: 'batch' });
    expect(file).toMatchObject({ object: 'file', filename: 'train.jsonl', purpose: 'batch' });
    expect(server.requestsTo('/files')[0]?.body).toEqual(expect.stringContaining('filename="train.jsonl"'));

    const added = await client.vectorStores.files.create('vs_1', { file_id: file.id });
    expect(added).toMatchObject({ id: file.id, object: 'vector_store.file', status: 'in_progress', vector_store_id: 'vs_1' });
    server.enqueueFor(/^\/vector_stores\/[^/]+\/files\/[^/]+$/, faults.ok({ ...added, status: 'in_progress' }));
    expect((await client.vectorStores.files.retrieve(file.id, { vector_store_id: 'vs_1' })).status).toBe('in_progress');
    expect((await client.vectorStores.files.retrieve(file.id, { vector_store_id: 'vs_1' })).status).toBe('completed');
  });

  it('answers unknown routes with 404 unknown_url', async () => {
    const res = await fetch(`${server.url}/nope`, { method: 'POST' });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: { message: 'Invalid URL (POST /v1/nope)', type: 'invalid_request_error', param: null, code: 'unknown_url' },
    });
  });
});

describe('Azure layout', () => {
  it('normalizes deployment paths and records the deployment', async () => {
    const azure = new AzureOpenAI({ endpoint: server.origin, apiKey: 'k', apiVersion: '2024-10-21', deployment: 'dep', maxRetries: 0 });
    const completion = await azure.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    expect(completion.choices[0]?.message.content).toBe('ok');
    await azure.models.list();
    const [chatReq, modelsReq] = server.requests;
    expect(chatReq).toMatchObject({ path: '/chat/completions', deployment: 'dep', query: { 'api-version': '2024-10-21' } });
    expect(chatReq?.rawPath).toBe('/openai/deployments/dep/chat/completions?api-version=2024-10-21');
    expect(chatReq?.headers['api-key']).toBe('k');
    expect(modelsReq).toMatchObject({ path: '/models', rawPath: '/openai/models?api-version=2024-10-21' });
    expect(modelsReq?.deployment).toBeUndefined();
    expect(server.requestsTo('/chat/completions')).toHaveLength(1);
  });
});

describe('error faults', () => {
  it('rateLimited sends OpenAI’s 429 with exactly the requested retry headers', async () => {
    server.enqueue(faults.rateLimited({ retryAfterMs: 20, resetRequests: '1s' }));
    const err = await caught(chat());
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const e = err as InstanceType<typeof OpenAI.RateLimitError>;
    expect(e).toMatchObject({ status: 429, code: 'rate_limit_exceeded', type: 'requests' });
    expect(e.message).toMatch(/^429 Rate limit reached for gpt-4o .* on requests per min \(RPM\): Limit 3, Used 3, Requested 1\. Please try again in 20ms\./);
    expect(e.headers.get('retry-after-ms')).toBe('20');
    expect(e.headers.get('x-ratelimit-reset-requests')).toBe('1s');
    expect(e.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(e.headers.get('retry-after')).toBeNull();
    expect(e.headers.get('x-ratelimit-reset-tokens')).toBeNull();
    expect(e.requestID).toMatch(/^req_\d+$/);
  });

  it('rateLimited supports retry-after dates, token limits and no default headers', async () => {
    const date = new Date(Date.now() + 5000);
    server.enqueue(faults.rateLimited({ retryAfterDate: date, type: 'tokens', resetTokens: '6m0s' }), faults.rateLimited({ noRetryHeaders: true }));
    const first = (await caught(chat())) as InstanceType<typeof OpenAI.RateLimitError>;
    expect(first.type).toBe('tokens');
    expect(first.headers.get('retry-after')).toBe(date.toUTCString());
    expect(first.headers.get('x-ratelimit-remaining-tokens')).toBe('0');
    expect(first.headers.get('x-ratelimit-reset-tokens')).toBe('6m0s');
    const second = (await caught(chat())) as InstanceType<typeof OpenAI.RateLimitError>;
    expect([...second.headers.keys()].filter((k) => k.startsWith('x-ratelimit') || k.startsWith('retry-after'))).toEqual([]);
  });

  it.each([
    ['insufficientQuota', faults.insufficientQuota(), OpenAI.RateLimitError, 429, 'insufficient_quota'],
    ['badRequest', faults.badRequest({ code: 'invalid_value', param: 'model' }), OpenAI.BadRequestError, 400, 'invalid_value'],
    ['contextLengthExceeded', faults.contextLengthExceeded(), OpenAI.BadRequestError, 400, 'context_length_exceeded'],
    ['unauthorized', faults.unauthorized(), OpenAI.AuthenticationError, 401, 'invalid_api_key'],
    ['forbidden', faults.forbidden(), OpenAI.PermissionDeniedError, 403, 'unsupported_country_region_territory'],
    ['notFound', faults.notFound({ model: 'gpt-9' }), OpenAI.NotFoundError, 404, 'model_not_found'],
    ['conflict', faults.conflict(), OpenAI.ConflictError, 409, null],
    ['requestTimeout', faults.requestTimeout(), OpenAI.APIError, 408, null],
    ['unprocessable', faults.unprocessable(), OpenAI.UnprocessableEntityError, 422, null],
    ['serverError', faults.serverError(), OpenAI.InternalServerError, 500, null],
    ['serverError(502)', faults.serverError(502), OpenAI.InternalServerError, 502, null],
    ['overloaded', faults.overloaded(), OpenAI.InternalServerError, 503, null],
    ['status(418)', faults.status(418, { code: 'teapot' }), OpenAI.APIError, 418, 'teapot'],
  ] as const)('%s maps to the SDK error class', async (_name, fault, cls, status, code) => {
    server.enqueue(fault);
    const err = (await caught(chat())) as InstanceType<typeof OpenAI.APIError>;
    expect(err).toBeInstanceOf(cls);
    expect(err.status).toBe(status);
    expect(err.code).toBe(code);
  });

  it('realistic messages and params', async () => {
    server.enqueue(faults.contextLengthExceeded(), faults.notFound({ model: 'gpt-9' }), faults.overloaded());
    const ctx = (await caught(chat())) as InstanceType<typeof OpenAI.APIError>;
    expect(ctx.param).toBe('messages');
    expect(ctx.message).toContain("This model's maximum context length is 128000 tokens");
    expect(((await caught(chat())) as Error).message).toContain('The model `gpt-9` does not exist');
    expect(((await caught(chat())) as Error).message).toBe('503 The engine is currently overloaded, please try again later.');
  });

  it('x-should-retry overrides are honoured by the SDK', async () => {
    const retrying = new OpenAI({ apiKey: 'sk-test', baseURL: server.url, maxRetries: 2 });
    server.enqueue(faults.serverError(500, { shouldRetry: false }));
    expect(await caught(chat(retrying))).toBeInstanceOf(OpenAI.InternalServerError);
    expect(server.requests).toHaveLength(1);

    server.enqueue(faults.badRequest({ headers: { 'x-should-retry': 'true', 'retry-after-ms': '1' } }));
    expect((await chat(retrying)).choices[0]?.message.content).toBe('ok');
    expect(server.requests).toHaveLength(3);
  });

  it('sends a verbatim body when given', async () => {
    server.enqueue(faults.serverError(502, { body: '<html>502 Bad Gateway</html>', headers: { 'content-type': 'text/html' } }));
    const res = await fetch(`${server.url}/chat/completions`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(502);
    expect(res.headers.get('content-type')).toBe('text/html');
    expect(await res.text()).toBe('<html>502 Bad Gateway</html>');
  });
});
