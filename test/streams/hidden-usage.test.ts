import { describe, expect, it } from 'vitest';
import { hideUsage } from '../../src/streams/hidden-usage.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A reader of `events`, one whole event per read (as `alignEvents` hands them). */
function readerOf(events: string[]): ReadableStreamDefaultReader<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const event of events) controller.enqueue(encoder.encode(event));
      controller.close();
    },
  }).getReader();
}

async function readAll(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string[]> {
  const out: string[] = [];
  for (let next = await reader.read(); !next.done; next = await reader.read()) out.push(decoder.decode(next.value));
  return out;
}

describe('hideUsage', () => {
  it('drops the usage chunk (reporting it once), removes `usage` from the other chunks, and passes the rest as it is', async () => {
    const reported: object[] = [];
    const events = [
      ': keep-alive\n\n',
      'data: {"id":"a","choices":[{"index":0,"delta":{"content":"say \\"usage\\""}}],"usage":null}\n\n',
      'data:{"id":"a","choices":[{"index":0,"delta":{}}],"usage":null}\r\n\r\n',
      'data: {"id":"a","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}\n\n',
      'data: [DONE]\n\n',
    ];
    const out = await readAll(hideUsage(readerOf(events), (usage) => reported.push(usage)));
    expect(out).toEqual([
      ': keep-alive\n\n',
      'data: {"id":"a","choices":[{"index":0,"delta":{"content":"say \\"usage\\""}}]}\n\n',
      'data: {"id":"a","choices":[{"index":0,"delta":{}}]}\n\n',
      'data: [DONE]\n\n',
    ]);
    expect(reported).toEqual([{ prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 }]);
  });

  it('reports a usage object on a chunk with choices, and hands the chunk on without it', async () => {
    const reported: object[] = [];
    const out = await readAll(hideUsage(readerOf(['data: {"choices":[{"index":0}],"usage":{"total_tokens":9}}\n\n']), (usage) => reported.push(usage)));
    expect(out).toEqual(['data: {"choices":[{"index":0}]}\n\n']);
    expect(reported).toEqual([{ total_tokens: 9 }]);
  });

  it('leaves what is not a chunk with a `usage` member alone (an error event, text that is not JSON)', async () => {
    const events = ['event: error\ndata: {"error":{"message":"usage"}}\n\n', 'data: "usage" {not json\n\n'];
    expect(await readAll(hideUsage(readerOf(events), () => undefined))).toEqual(events);
  });
});
