import { afterEach, describe, expect, it, vi } from 'vitest';
import { chatParams, harness } from '../support/harness.js';

/** Calls of `JSON.parse` on an answer's body (`marker` is in the body, never in a request). */
function parsesOf(marker: string): () => number {
  const parse = vi.spyOn(JSON, 'parse');
  return () => parse.mock.calls.filter(([text]) => typeof text === 'string' && text.includes(marker)).length;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('a JSON answer is parsed once', () => {
  it('by the attempt, which checks it; the SDK is handed that parse, not the text to parse again', async () => {
    const { ai, raw } = await harness();
    const parses = parsesOf('"object":"chat.completion"');
    await raw.chat.completions.create(chatParams);
    expect(parses(), 'the bare SDK').toBe(1);
    const completion = await ai.chat.completions.create(chatParams);
    expect(parses(), 'the bare SDK, then resilient()').toBe(2);
    expect(completion.choices[0]!.message.content).toBe('ok');
  });

  it("gives what the SDK builds from the text: the same value, with the SDK's non-enumerable `_request_id`", async () => {
    const { ai, raw } = await harness();
    const bare = await raw.chat.completions.create(chatParams).withResponse();
    const { data, response } = await ai.chat.completions.create(chatParams).withResponse();
    expect(data).toEqual({ ...bare.data, id: data.id, created: data.created });
    const requestId = (data as { _request_id?: unknown })._request_id;
    expect(requestId).toBe(response.headers.get('x-request-id'));
    expect(requestId).toMatch(/^req_/);
    expect(Object.keys(data)).not.toContain('_request_id');
    // The body was read once, by the SDK's parsing step: as with the bare SDK's native Response.
    expect(response.bodyUsed).toBe(true);
    await expect(response.json()).rejects.toThrow(TypeError);
    await expect(bare.response.json()).rejects.toThrow(TypeError);
  });

  it("an embedding's base64 is decoded by the SDK from that parse", async () => {
    const { ai, raw } = await harness();
    const parses = parsesOf('"object":"list"');
    const params = { model: 'text-embedding-3-small', input: 'Say ok' };
    const [bare, wrapped] = [await raw.embeddings.create(params), await ai.embeddings.create(params)];
    expect(parses()).toBe(2);
    expect(wrapped.data[0]!.embedding).toEqual(bare.data[0]!.embedding);
    expect(wrapped.data[0]!.embedding.every((value) => typeof value === 'number')).toBe(true);
  });

  it("never hands a caller an object another caller or the cache holds: changing one answer changes no other", async () => {
    const { ai, server } = await harness({ cache: true });
    const params = { ...chatParams, temperature: 0 };
    const first = await ai.chat.completions.create(params);
    first.choices[0]!.message.content = 'changed by its caller';
    const hit = await ai.chat.completions.create(params);
    expect(server.requestsTo('/chat/completions')).toHaveLength(1);
    expect(hit).not.toBe(first);
    expect(hit.choices[0]!.message.content).toBe('ok');
  });

  it('is left to the SDK while the client logs at `debug` (the SDK logs what it parsed)', async () => {
    const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
    const { ai } = await harness({}, { logLevel: 'debug', logger });
    const parses = parsesOf('"object":"chat.completion"');
    await ai.chat.completions.create(chatParams);
    expect(parses()).toBe(2);
    expect(logger.debug.mock.calls.some(([message]) => String(message).includes('response parsed'))).toBe(true);
  });
});
