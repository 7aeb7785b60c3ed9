import { describe, it, expect, beforeAll, afterAll, beforeEach } from 'vitest';
import OpenAI from 'openai';
import { createFaultFetch, faults, numberedDeltas, startFaultServer, type FaultServer } from '../../src/testing/index.js';
import { continuedPrefix, restOfAnswer } from '../../src/testing/chat-continuation.js';
import { CONTINUE_INSTRUCTION } from '../../src/streams/continuation/continuation-body.js';

let server: FaultServer;
let client: OpenAI;
const user = { role: 'user' as const, content: 'count' };
type Chunk = OpenAI.Chat.Completions.ChatCompletionChunk;

/** The chunks of a chat stream of `messages` (plus `extra` fields), read to its end. */
async function chunksOf(messages: unknown[], extra: Record<string, unknown> = {}, on: OpenAI = client): Promise<Chunk[]> {
  const stream = await on.chat.completions.create({ model: 'gpt-4o', messages, stream: true, ...extra } as never);
  const chunks: Chunk[] = [];
  for await (const chunk of stream as unknown as AsyncIterable<Chunk>) chunks.push(chunk);
  return chunks;
}
const textOf = (chunks: Chunk[]) => chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
const contentChunks = (chunks: Chunk[]) => chunks.filter((c) => (c.choices[0]?.delta.content ?? '') !== '').length;

beforeAll(async () => {
  server = await startFaultServer();
  client = new OpenAI({ apiKey: 'sk-test', baseURL: server.url, maxRetries: 0 });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

describe("words: 'numbered'", () => {
  it('deltas all different: w1, w2, w3...', async () => {
    server.enqueue(faults.stream({ chunks: 5, words: 'numbered' }));
    expect(textOf(await chunksOf([user]))).toBe('w1 w2 w3 w4 w5');
    expect(numberedDeltas(3)).toEqual(['w1', ' w2', ' w3']);
  });

  it('a Responses stream too', async () => {
    server.enqueue(faults.stream({ chunks: 3, words: 'numbered' }));
    const stream = await client.responses.create({ model: 'gpt-4o', input: 'count', stream: true });
    let text = '';
    for await (const event of stream) if (event.type === 'response.output_text.delta') text += event.delta;
    expect(text).toBe('w1 w2 w3');
  });
});

describe('a request continuing a partial answer gets the rest of the answer', () => {
  it.each([
    ['prefix: true (Mistral, DeepSeek)', [user, { role: 'assistant', content: 'w1 w2 w3', prefix: true }], {}],
    ['continue_final_message (vLLM)', [user, { role: 'assistant', content: 'w1 w2 w3' }], { continue_final_message: true, add_generation_prompt: false }],
    ['a trailing assistant message (prefill)', [user, { role: 'assistant', content: 'w1 w2 w3' }], {}],
    ['the instruction after the assistant message', [user, { role: 'assistant', content: 'w1 w2 w3' }, { role: 'user', content: CONTINUE_INSTRUCTION }], {}],
    ['content given as text parts', [user, { role: 'assistant', content: [{ type: 'text', text: 'w1 w2' }, { type: 'text', text: ' w3' }] }], {}],
  ])('%s', async (_, messages, extra) => {
    server.enqueue(faults.stream({ chunks: 6, words: 'numbered' }));
    const chunks = await chunksOf(messages, { ...extra, stream_options: { include_usage: true } });
    expect(chunks[0]?.choices[0]?.delta).toMatchObject({ role: 'assistant', content: '' });
    expect(textOf(chunks)).toBe(' w4 w5 w6');
    expect(contentChunks(chunks)).toBe(3);
    expect(chunks.at(-1)?.usage?.completion_tokens).toBe(3);
  });

  it('the default answer too (a prefix ending inside a delta gets the rest of that delta first)', async () => {
    expect(textOf(await chunksOf([user, { role: 'assistant', content: 'Hello wo' }]))).toBe('rld!');
  });

  it("the stream faults count the continuation's own chunks", async () => {
    server.enqueue(faults.stream({ chunks: 8, words: 'numbered', dropAfter: 2 }));
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: [user, { role: 'assistant', content: 'w1 w2 w3' }], stream: true });
    let text = '';
    await expect(
      (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      })(),
    ).rejects.toThrow();
    expect(text).toBe(' w4 w5');
  });

  it('a prefix that is not the start of the answer gets the whole answer (a model starting over)', async () => {
    server.enqueue(faults.stream({ chunks: 3, words: 'numbered' }));
    expect(textOf(await chunksOf([user, { role: 'assistant', content: 'something else' }]))).toBe('w1 w2 w3');
  });

  it('the fault fetch answers continuations the same way', async () => {
    const fetch = createFaultFetch();
    fetch.enqueue(faults.stream({ chunks: 4, words: 'numbered' }));
    const viaFetch = new OpenAI({ apiKey: 'sk-test', baseURL: 'http://fault.test/v1', fetch: fetch.fetch, maxRetries: 0 });
    expect(textOf(await chunksOf([user, { role: 'assistant', content: 'w1 w2', prefix: true }], {}, viaFetch))).toBe(' w3 w4');
  });
});

describe('continuedPrefix and restOfAnswer', () => {
  it('no prefix: a last user message, an assistant message followed by another user message, no messages', () => {
    expect(continuedPrefix({ messages: [user] })).toBeUndefined();
    expect(continuedPrefix({ messages: [user, { role: 'assistant', content: 'w1' }, user] })).toBeUndefined();
    expect(continuedPrefix({})).toBeUndefined();
  });

  it('the whole answer consumed: nothing left', () => {
    expect(restOfAnswer(['w1', ' w2'], 'w1 w2')).toEqual([]);
    expect(restOfAnswer(['w1', ' w2'], '')).toEqual(['w1', ' w2']);
  });
});
