import { describe, expect, it } from 'vitest';
import { relayBody, RelayedResponse } from '../../src/responses/relayed-response.js';
import { chatStreamPlan } from '../../src/testing/index.js';
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

  it('never reads ahead: the upstream is read only when its reader asks', async () => {
    let reads = 0;
    const upstream = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          reads++;
          controller.enqueue(new TextEncoder().encode(`data: ${reads}\n\n`));
        },
      },
      { highWaterMark: 0 },
    );
    const reader = relayBody(new Response(upstream), taps()).body!.getReader();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(reads).toBe(0);
    await reader.read();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(reads).toBe(1);
    await reader.cancel();
  });

  it("never counts against a recorded (cached) stream's upstream the time its caller spends between reads", async () => {
    const plan = chatStreamPlan({ id: 'chatcmpl-1', model: 'gpt-4.1-mini', chunks: 3 });
    const encoder = new TextEncoder();
    let upstream!: ReadableStreamDefaultController<Uint8Array>;
    const fetch = async () =>
      new Response(
        new ReadableStream<Uint8Array>({
          start(controller) {
            upstream = controller;
            controller.enqueue(encoder.encode(plan.preamble.join('') + plan.content[0]));
          },
        }),
        { headers: { 'content-type': 'text/event-stream' } },
      );
    const { clock, ai } = await harness({ cache: true, timeout: { idle: 100 } }, { fetch });
    const ends: unknown[] = [];
    ai.resilience.on('streamStall', (event) => ends.push(event));
    ai.resilience.on('streamAbandoned', (event) => ends.push(event));
    const stream = await ai.chat.completions.create({ ...chatParams, temperature: 0, stream: true });
    const iterator = stream[Symbol.asyncIterator]();
    let text = '';
    for (let i = 0; i < 2; i++) text += (await iterator.next()).value?.choices[0]?.delta?.content ?? '';
    // The caller spends a second on what it has; meanwhile the upstream sends the rest, 90 ms apart.
    const rest = [...plan.content.slice(1), ...plan.tail, plan.terminator];
    const sent = [...Array<string>(11 - rest.length).fill(': keep-alive\n\n'), ...rest];
    for (const piece of sent) {
      upstream.enqueue(encoder.encode(piece));
      await new Promise((resolve) => setTimeout(resolve, 2));
      await clock.advance(90);
    }
    expect(ends).toEqual([]);
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) text += next.value.choices[0]?.delta?.content ?? '';
    expect(text).toBe('Hello world!');
  });

  it('returns a response without a body as it is, ended as complete', () => {
    const tap = taps();
    const empty = new Response(null, { status: 204 });
    expect(relayBody(empty, tap)).toBe(empty);
    expect(tap.ends).toEqual([true]);
  });
});
