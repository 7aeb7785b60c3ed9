import { describe, expect, it } from 'vitest';
import { relayBody, RelayedResponse } from '../../src/pipeline/relayed-response.js';
import { chatParams, harness } from '../support/harness.js';

const bytes = (text: string) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(text));
      controller.close();
    },
  });

function upstream(): Response {
  const response = new Response('unread upstream body', {
    status: 201,
    statusText: 'Created',
    headers: { 'content-type': 'text/event-stream', 'x-request-id': 'req_1' },
  });
  Object.defineProperty(response, 'url', { value: 'http://127.0.0.1/v1/chat/completions' });
  return response;
}

describe('RelayedResponse', () => {
  it("keeps the upstream's status line, url and very Headers object, with the new body", async () => {
    const from = upstream();
    const relayed = new RelayedResponse(bytes('data: relayed\n\n'), from);
    expect(relayed).toBeInstanceOf(Response);
    expect(relayed.headers).toBe(from.headers);
    expect([relayed.status, relayed.statusText, relayed.ok, relayed.url]).toEqual([201, 'Created', true, from.url]);
    expect(await relayed.text()).toBe('data: relayed\n\n');
  });

  it('clones like any Response: the same headers and bytes, read once each', async () => {
    const relayed = new RelayedResponse(bytes('data: relayed\n\n'), upstream());
    const copy = relayed.clone();
    expect(copy.headers.get('x-request-id')).toBe('req_1');
    expect([copy.status, copy.url]).toEqual([201, relayed.url]);
    expect(await copy.text()).toBe('data: relayed\n\n');
    expect(await relayed.text()).toBe('data: relayed\n\n');
    expect(() => relayed.clone()).toThrow(TypeError);
  });

  it("is the body of a stream's asResponse(): the server's headers, a body that reads and clones", async () => {
    const { ai } = await harness();
    const raw = await ai.chat.completions.create({ ...chatParams, stream: true }).asResponse();
    expect(raw).toBeInstanceOf(RelayedResponse);
    expect(raw.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(raw.headers.get('x-request-id')).toMatch(/^req_/);
    const copy = raw.clone();
    const text = await raw.text();
    expect(text).toContain('data: [DONE]');
    expect(await copy.text()).toBe(text);
  });
});

describe('relayBody', () => {
  const chunks = (...texts: string[]) =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (const text of texts) controller.enqueue(new TextEncoder().encode(text));
        controller.close();
      },
    });
  const taps = () => {
    const seen: string[] = [];
    const ends: boolean[] = [];
    const decoder = new TextDecoder();
    return { seen, ends, chunk: (bytes: Uint8Array) => seen.push(decoder.decode(bytes)), end: (complete: boolean) => ends.push(complete) };
  };

  it('passes every chunk through unchanged, shows each to `chunk`, and ends once as complete', async () => {
    const tap = taps();
    const relayed = relayBody(new Response(chunks('data: 1\n\n', 'data: 2\n\n')), tap);
    expect(relayed).toBeInstanceOf(RelayedResponse);
    expect(await relayed.text()).toBe('data: 1\n\ndata: 2\n\n');
    expect(tap.seen).toEqual(['data: 1\n\n', 'data: 2\n\n']);
    expect(tap.ends).toEqual([true]);
  });

  it('ends once as not complete when cancelled, and when the upstream fails', async () => {
    const cancelled = taps();
    await relayBody(new Response(chunks('data: 1\n\n')), cancelled).body!.cancel('caller left');
    expect(cancelled.ends).toEqual([false]);

    const failed = taps();
    const broken = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.error(new Error('reset'));
      },
    });
    await expect(relayBody(new Response(broken), failed).text()).rejects.toThrow('reset');
    expect(failed.ends).toEqual([false]);
  });

  it('returns a response without a body as it is, ended as complete', () => {
    const tap = taps();
    const empty = new Response(null, { status: 204 });
    expect(relayBody(empty, tap)).toBe(empty);
    expect(tap.ends).toEqual([true]);
  });
});
