import { describe, expect, it } from 'vitest';
import { alignEvents } from '../../src/streams/event-aligned-reader.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The chunks `alignEvents` makes of `pieces` (sent as they are, one read each). */
async function aligned(...pieces: string[]): Promise<string[]> {
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const piece of pieces) controller.enqueue(encoder.encode(piece));
      controller.close();
    },
  });
  const reader = alignEvents(stream.getReader());
  const chunks: string[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return chunks;
    chunks.push(decoder.decode(value));
  }
}

describe('alignEvents', () => {
  it('hands on one whole event per chunk, however the bytes were cut', async () => {
    expect(await aligned('data: 1\n\ndata: 2\n', '\ndata:', ' 3\n\n')).toEqual(['data: 1\n\n', 'data: 2\n\n', 'data: 3\n\n']);
  });

  it('knows every line ending: \\r\\n, \\r, and a \\r\\n cut between two reads', async () => {
    expect(await aligned('event: a\r\ndata: 1\r\n\r\ndata: 2\r\r')).toEqual(['event: a\r\ndata: 1\r\n\r\n', 'data: 2\r\r']);
    expect(await aligned('data: 1\r\n\r', '\ndata: 2\n\n')).toEqual(['data: 1\r\n\r', 'data: 2\n\n']);
  });

  it('keeps comments with the event they precede, and drops an event the upstream never finished', async () => {
    expect(await aligned(': keep-alive\n\n', 'data: 1\n\ndata: {"half', '')).toEqual([': keep-alive\n\n', 'data: 1\n\n']);
  });

  it('holds an event of many reads until its blank line, whole', async () => {
    const big = 'x'.repeat(10_000);
    expect(await aligned('data: ', big.slice(0, 5_000), big.slice(5_000), '\n', '\n')).toEqual([`data: ${big}\n\n`]);
  });
});
