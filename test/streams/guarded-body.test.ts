import { describe, expect, it } from 'vitest';
import { GuardedBody } from '../../src/streams/guarded-body.js';
import { faults } from '../../src/testing/index.js';
import { chatParams, harness, until } from '../support/harness.js';

const encode = (text: string) => new TextEncoder().encode(text);
const decode = (chunks: Uint8Array[]) => chunks.map((chunk) => new TextDecoder().decode(chunk)).join('');

/** A stream whose reads (either way) come from `pieces`, and what its source was asked. */
function guarded(pieces: string[]) {
  const reads: string[] = [];
  const cancelled: unknown[] = [];
  const read = () => {
    const piece = pieces.shift();
    if (piece !== undefined) reads.push(piece);
    return Promise.resolve(piece === undefined ? { done: true as const, value: undefined } : { done: false as const, value: encode(piece) });
  };
  let body: ReadableStreamDefaultController<Uint8Array> | undefined;
  let queued = 0;
  // As the stream guard does, the source closes the body itself when it ends.
  const guardedRead = () =>
    read().then((result) => {
      if (result.done) body?.close();
      body = result.done ? undefined : body;
      return result;
    });
  const stream = new GuardedBody(guardedRead, {
    start: (controller) => {
      body = controller;
      // Counts what passes through the stream's own queue.
      const enqueue = controller.enqueue.bind(controller);
      controller.enqueue = (chunk) => {
        queued++;
        enqueue(chunk);
      };
    },
    cancel: (reason) => {
      body = undefined;
      cancelled.push(reason);
      return Promise.resolve();
    },
  });
  return { stream, reads, cancelled, queued: () => queued };
}

async function readAll(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  for (let next = await reader.read(); !next.done; next = await reader.read()) chunks.push(next.value);
  return chunks;
}

describe('GuardedBody', () => {
  it("gives getReader() a reader that reads through the guard's own function, holding the stream's lock", async () => {
    const { stream, reads } = guarded(['a', 'b']);
    const reader = stream.getReader();
    expect(stream.locked).toBe(true);
    expect(() => stream.getReader()).toThrow(TypeError);
    expect(decode(await readAll(reader))).toBe('ab');
    expect(reads).toEqual(['a', 'b']);
    reader.releaseLock();
    expect(stream.locked).toBe(false);
    await expect(reader.read()).rejects.toThrow(TypeError);
  });

  it('shares one sequence with the stream itself: a reader released midway leaves the rest to any other reader', async () => {
    const { stream } = guarded(['a', 'b', 'c']);
    const reader = stream.getReader();
    expect(decode([(await reader.read()).value!])).toBe('a');
    reader.releaseLock();
    expect(await new Response(stream).text()).toBe('bc');
  });

  it('cancels the stream through its own cancel, and leaves byob readers to the stream (which refuses them)', async () => {
    const { stream, cancelled } = guarded(['a']);
    expect(() => stream.getReader({ mode: 'byob' })).toThrow(TypeError);
    await stream.getReader().cancel('done with it');
    expect(cancelled).toEqual(['done with it']);
  });
});

describe('GuardedBody: for await and values()', () => {
  it("iterates through the guard's own function, not the stream's queue, and releases the lock at the end", async () => {
    const { stream, reads, queued } = guarded(['a', 'b']);
    const chunks: Uint8Array[] = [];
    for await (const chunk of stream) {
      expect(stream.locked).toBe(true);
      chunks.push(chunk);
    }
    expect(decode(chunks)).toBe('ab');
    expect(reads).toEqual(['a', 'b']);
    expect(queued()).toBe(0);
    expect(stream.locked).toBe(false);
  });

  it('leaves pipeTo (and tee) to the stream itself, which reads through its queue and the same function', async () => {
    const { stream, reads, queued } = guarded(['a', 'b']);
    const piped: Uint8Array[] = [];
    await stream.pipeTo(new WritableStream({ write: (chunk) => void piped.push(chunk) }));
    expect(decode(piped)).toBe('ab');
    expect(reads).toEqual(['a', 'b']);
    expect(queued()).toBe(2);
  });

  it('cancels the stream when the loop is left early, unless preventCancel', async () => {
    const left = guarded(['a', 'b']);
    for await (const _chunk of left.stream) break;
    expect(left.cancelled).toEqual([undefined]);
    expect(left.stream.locked).toBe(false);

    const kept = guarded(['a', 'b']);
    for await (const _chunk of kept.stream.values({ preventCancel: true })) break;
    expect(kept.cancelled).toEqual([]);
    expect(decode(await readAll(kept.stream.getReader()))).toBe('b');
  });

  it('throws what a read throws, and releases the lock', async () => {
    const failure = new Error('connection lost');
    const stream = new GuardedBody(() => Promise.reject(failure), { start: () => undefined, cancel: () => Promise.resolve() });
    await expect((async () => {
      for await (const _chunk of stream) expect.unreachable();
    })()).rejects.toBe(failure);
    expect(stream.locked).toBe(false);
  });
});

describe('a guarded stream read by the SDK', () => {
  it('times a wait for the upstream from when the caller starts it, not from the last chunk', async () => {
    const idle = 12_345;
    const { server, clock, ai } = await harness({ timeout: { idle } });
    // The role chunk (the first meaningful event, held until then), then silence.
    server.enqueue(faults.stream({ stallAfter: 0 }));
    const response = await ai.chat.completions.create({ ...chatParams, stream: true }).asResponse();
    const reader = response.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain('"role":"assistant"');
    // The caller is busy for a while (less than idle), then waits for more.
    await clock.advance(10_000);
    const waiting = reader.read().then(() => undefined, (error: unknown) => error);
    await clock.advance(idle - 1);
    expect(ai.resilience.stats().total.streams.stalls).toBe(0);
    await clock.advance(1);
    expect(await waiting).toMatchObject({ name: 'StreamIdleTimeoutError', idle });
    await until(() => server.openRequests === 0);
    expect(clock.pending()).toEqual([]);
  });

  it('hands the SDK every chunk the server sent, in order, to the end', async () => {
    const { server, ai } = await harness();
    server.enqueue(faults.stream({ chunks: 20 }));
    const chunks = [];
    for await (const chunk of await ai.chat.completions.create({ ...chatParams, stream: true })) chunks.push(chunk);
    expect(chunks.filter((chunk) => chunk.choices[0]?.delta?.content)).toHaveLength(20);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    expect(ai.resilience.load().active).toBe(0);
  });
});
