import { describe, expect, it } from 'vitest';
import { faults } from '../../src/testing/index.js';
import { isResilienceError, MalformedResponseError, type RetryEvent } from '../../src/index.js';
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
