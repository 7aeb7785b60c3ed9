import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { chatStreamPlan, responsesStreamPlan, sseFrame } from '../../src/testing/index.js';
import { recordStream } from '../../src/cache/cache-record.js';
import type { CachedResponse } from '../../src/cache/cache-store.js';
import { chatParams, harness } from '../support/harness.js';
import { scriptedFetch } from '../support/scripted-fetch.js';

const chat = chatStreamPlan({ id: 'chatcmpl-1', model: 'gpt-4.1-mini', chunks: 2 });
const responses = responsesStreamPlan({ id: 'resp_1', model: 'gpt-4.1-mini', chunks: 2 });

/** `events` recorded by `recordStream`, read by `read` (to the end by default); what it stored. */
async function recorded(events: string, read: (body: ReadableStream<Uint8Array>) => Promise<unknown> = (body) => new Response(body).text()) {
  const stored: CachedResponse[] = [];
  const upstream = new Response(events, { headers: { 'content-type': 'text/event-stream' } });
  const response = recordStream(upstream, 1024 * 1024, () => 0, 1000, (record) => stored.push(record));
  await read(response.body!);
  return stored;
}

describe('recordStream', () => {
  it('stores a stream that reached [DONE] or response.completed', async () => {
    const chatStream = [...chat.preamble, ...chat.content, ...chat.tail, chat.terminator].join('');
    const responsesStream = [...responses.preamble, ...responses.content, ...responses.tail, responses.terminator].join('');
    expect((await recorded(chatStream)).map((record) => record.body)).toEqual([chatStream]);
    expect((await recorded(responsesStream)).map((record) => record.body)).toEqual([responsesStream]);
  });

  it('stores an Images API stream that reached the event carrying the final image (it sends no [DONE])', async () => {
    const stream =
      sseFrame({ type: 'image_generation.partial_image', b64_json: 'AAAA', partial_image_index: 0 }, 'image_generation.partial_image') +
      sseFrame({ type: 'image_generation.completed', b64_json: 'BBBB' }, 'image_generation.completed');
    expect(await recorded(stream)).toHaveLength(1);
  });

  it('stores a stream cancelled after its terminal event (the SDK cancels the body once it has read [DONE])', async () => {
    const stream = [...chat.preamble, ...chat.content, ...chat.tail, chat.terminator].join('');
    const stored = await recorded(stream, async (body) => {
      const reader = body.getReader();
      await reader.read();
      await reader.cancel();
    });
    expect(stored).toHaveLength(1);
  });

  it.each([
    ['an error event, then [DONE] (vLLM, LiteLLM)', [...chat.preamble, ...chat.content, chat.error(undefined, 2), chat.terminator].join('')],
    ['a Responses error event, then response.completed', [...responses.preamble, responses.error(undefined, 0), ...responses.tail, responses.terminator].join('')],
    ['response.failed', [...responses.preamble, sseFrame({ type: 'response.failed', response: {} }, 'response.failed')].join('')],
    ['response.incomplete', [...responses.preamble, sseFrame({ type: 'response.incomplete', response: {} }, 'response.incomplete')].join('')],
  ])('does not store a stream with %s', async (_name, stream) => {
    expect(await recorded(stream)).toEqual([]);
  });
});

describe('a cached chat stream carrying an SSE error event', () => {
  it('is never stored, even when the server sends [DONE] after the error (vLLM, LiteLLM do)', async () => {
    const failing = [...chat.preamble, ...chat.content, chat.error(undefined, 2), chat.terminator].join('');
    const good = [...chat.preamble, ...chat.content, ...chat.tail, chat.terminator].join('');
    const { fetch, calls } = scriptedFetch([{ chunks: [failing] }, { chunks: [good] }]);
    const { ai } = await harness({ cache: true }, { fetch });
    const run = async () => {
      let text = '';
      for await (const chunk of await ai.chat.completions.create({ ...chatParams, temperature: 0, stream: true })) {
        text += chunk.choices[0]?.delta?.content ?? '';
      }
      return text;
    };
    // The bare SDK throws the APIError of the error event: so does the first call.
    await expect(run()).rejects.toBeInstanceOf(OpenAI.APIError);
    // The second identical call goes upstream instead of replaying the failed stream from the cache.
    expect(await run()).toBe('Hello world');
    expect(calls).toHaveLength(2);
  });
});
