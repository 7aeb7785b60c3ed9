import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { faults, responseObject } from '../../src/testing/index.js';
import { classify, isResilienceError, MalformedResponseError, type RetryEvent } from '../../src/index.js';
import { chatParams, drive, harness, rejectionOf } from '../support/harness.js';

describe('reading the response', () => {
  it('retries a body cut mid-way as a connection failure', async () => {
    const { server, clock, ai } = await harness();
    server.enqueue(faults.dropBody());
    const retries: RetryEvent[] = [];
    ai.resilience.on('retry', (event) => retries.push(event));
    const completion = await drive(clock, ai.chat.completions.create(chatParams));
    expect(completion.object).toBe('chat.completion');
    expect(retries.map((event) => event.kind)).toEqual(['connection']);
    expect(server.requests).toHaveLength(2);
  });

  it('turns a 200 whose JSON is not JSON into a typed, retried MalformedResponseError', async () => {
    const { server, clock, ai } = await harness({ retry: { maxRetries: 1 } });
    const html = '<html><body>502 Bad Gateway</body></html>';
    server.enqueue(faults.ok(html), faults.ok(html));
    const error = await rejectionOf(drive(clock, ai.chat.completions.create(chatParams)));
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(isResilienceError(error)).toBe(true);
    expect(error).toMatchObject({ name: 'MalformedResponseError', kind: 'malformed_response', status: 200 });
    expect(error.requestID).toMatch(/^req_/);
    expect(server.requests).toHaveLength(2);
  });

  it("turns a 200 HTML page (a proxy's or captive portal's) into a typed, retried MalformedResponseError", async () => {
    const { server, clock, ai, raw } = await harness({ retry: { maxRetries: 1 } });
    server.enqueue(faults.htmlPage());
    // The bare SDK hands the page over as the answer, typed as a ChatCompletion.
    expect(await raw.chat.completions.create(chatParams)).toMatch(/^<!DOCTYPE html>/);
    const retries: RetryEvent[] = [];
    ai.resilience.on('retry', (event) => retries.push(event));
    server.enqueue(faults.htmlPage());
    expect((await drive(clock, ai.chat.completions.create(chatParams))).object).toBe('chat.completion');
    expect(retries.map((event) => event.kind)).toEqual(['malformed_response']);
    // Undeclared, and when retries give up: the typed error.
    const undeclared = faults.ok('\n<html><body>Access denied</body></html>', { 'content-type': '' });
    server.enqueue(undeclared, undeclared);
    const error = await rejectionOf(drive(clock, ai.chat.completions.create(chatParams)));
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error).toMatchObject({ kind: 'malformed_response', status: 200, message: expect.stringMatching(/HTML page/) });
    expect(server.requests).toHaveLength(5);
  });

  // OpenRouter answers a failure during generation with a 200 whose body is `{"error": ...}`.
  it("fails a 200 whose JSON is an error payload like the same payload in a stream: the SDK's APIError, classified by its code", async () => {
    const { server, clock, ai, raw } = await harness({ retry: { maxRetries: 1 } });
    const failure = (code: string | number) => faults.ok({ error: { code, message: 'Provider returned error' }, user_id: 'user_1' });
    server.enqueue(failure('server_error'));
    // The bare SDK hands it over as the answer, typed as a ChatCompletion.
    expect(await raw.chat.completions.create(chatParams)).toMatchObject({ error: { message: 'Provider returned error' } });
    const retries: RetryEvent[] = [];
    ai.resilience.on('retry', (event) => retries.push(event));
    server.enqueue(failure('server_error'));
    expect((await drive(clock, ai.chat.completions.create(chatParams))).object).toBe('chat.completion');
    expect(retries.map((event) => event.kind)).toEqual(['server_error']);
    // A code that says the request itself is bad (OpenRouter's numeric 400) fails at once, with what the payload says.
    server.enqueue(failure(400));
    const error = await rejectionOf(drive(clock, ai.embeddings.create({ model: 'text-embedding-3-small', input: 'hi' })));
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(error).toMatchObject({ status: undefined, message: 'Provider returned error', error: { code: 400 } });
    expect(classify(error).kind).toBe('bad_request');
    expect(error.headers.get('x-request-id')).toMatch(/^req_/);
    expect(server.requests).toHaveLength(4);
  });

  it('hands over an answer whose error member is part of it (a failed Responses API response), as the SDK does', async () => {
    const { server, clock, ai } = await harness();
    const failed = { ...responseObject({ id: 'resp_1', model: 'gpt-4.1-mini', status: 'failed', output: [] }), error: { code: 'server_error', message: 'The server had an error.' } };
    server.enqueue(faults.ok(failed));
    const response = await drive(clock, ai.responses.create({ model: 'gpt-4.1-mini', input: 'hi' }));
    expect(response).toMatchObject({ status: 'failed', error: { code: 'server_error' } });
    expect(server.requests).toHaveLength(1);
  });

  it('keeps what the SDK reads from the response: data, headers, request id', async () => {
    const { clock, ai } = await harness();
    const { data, response, request_id } = await drive(clock, ai.chat.completions.create(chatParams).withResponse());
    expect(data.object).toBe('chat.completion');
    expect((data as { _request_id?: string })._request_id).toBe(request_id);
    expect(response.headers.get('x-ratelimit-limit-requests')).toBe('500');
    expect(response.status).toBe(200);
  });

  it('hands binary responses over unread', async () => {
    const { server, clock, ai } = await harness();
    server.enqueue(faults.ok('RIFF-audio-bytes', { 'content-type': 'audio/mpeg' }));
    const response = await drive(clock, ai.audio.speech.create({ model: 'gpt-4o-mini-tts', voice: 'alloy', input: 'hi' }));
    expect(response).toBeInstanceOf(Response);
    expect(response.bodyUsed).toBe(false);
    expect(await response.text()).toBe('RIFF-audio-bytes');
  });
});
