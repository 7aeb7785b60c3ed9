import { describe, expect, it, vi } from 'vitest';
import { chatContinuation, MAX_CONTINUATIONS, type ContinuationSeam } from '../../../src/streams/continuation/chat-continuation.js';
import { attachPartialOutput, type PartialOutput } from '../../../src/streams/partial-output.js';
import { partialChat } from '../../support/partial-chat.js';

const body = { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'count' }], stream: true };
const live = () => new AbortController().signal;

/** An error carrying `partial`, as a failed stream's does. */
function failed(partial: PartialOutput): Error {
  const error = new Error('terminated');
  attachPartialOutput(error, () => partial);
  return error;
}

/** A reader of one continuation chunk ` w3`, with its role chunk before it. */
function continuationReader(): ReadableStreamDefaultReader<Uint8Array> {
  const encoder = new TextEncoder();
  const frame = (delta: object) => `data: ${JSON.stringify({ id: 'chatcmpl-2', created: 2, choices: [{ index: 0, delta, finish_reason: null }] })}\n\n`;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(frame({ role: 'assistant', content: '' })));
      controller.enqueue(encoder.encode(frame({ content: ' w3' })));
      controller.close();
    },
  }).getReader();
}

async function textOf(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string> {
  let text = '';
  for (let next = await reader.read(); !next.done; next = await reader.read()) text += new TextDecoder().decode(next.value);
  return text;
}

describe('chatContinuation', () => {
  it('sends the continuation body, reports the seam, and hands back the spliced events', async () => {
    const send = vi.fn(async () => continuationReader());
    const seams: ContinuationSeam[] = [];
    const recovery = chatContinuation({ body, setting: { strategy: 'prefix', builder: undefined }, send, onContinued: (seam) => seams.push(seam) });
    const reader = await recovery.recover(failed(partialChat('w1 w2')), 'reset', live());
    expect(send).toHaveBeenCalledWith({ ...body, messages: [...body.messages, { role: 'assistant', content: 'w1 w2', prefix: true }] }, expect.any(AbortSignal), expect.any(Error));
    expect(seams).toEqual([{ chunks: 3, deliveredTokens: 2, strategy: 'prefix', failure: 'reset', continuation: 1 }]);
    const text = await textOf(reader!);
    expect(text).not.toContain('"role"');
    expect(JSON.parse(text.replace(/^data: /, ''))).toMatchObject({ id: 'chatcmpl-1', created: 1_700_000_000, choices: [{ delta: { content: ' w3' } }] });
  });

  it('a continuation that repeats the partial answer first has the repetition dropped', async () => {
    const encoder = new TextEncoder();
    const frame = (content: string) => `data: ${JSON.stringify({ id: 'chatcmpl-2', created: 2, choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
    const echoing = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode(frame('w1 w2')));
        controller.enqueue(encoder.encode(frame(' w3')));
        controller.close();
      },
    }).getReader();
    const recovery = chatContinuation({ body, setting: { strategy: 'prefix', builder: undefined }, send: async () => echoing });
    const text = await textOf((await recovery.recover(failed(partialChat('w1 w2')), 'reset', live()))!);
    expect(text).not.toContain('w1');
    expect(text).toContain('" w3"');
  });

  it('declines where it cannot be faithful, without sending anything: the stream ends with its error', async () => {
    const send = vi.fn(async () => continuationReader());
    const declined: unknown[] = [];
    const recovery = chatContinuation({ body, setting: { strategy: 'prefix', builder: undefined }, send, onNotContinued: (reason, chunks) => declined.push([reason, chunks]) });
    const call = { index: 0, id: 'call_a', name: 'weather', arguments: '{"ci', complete: false };
    expect(await recovery.recover(failed(partialChat('', { toolCalls: [call] })), 'reset', live())).toBeUndefined();
    expect(await recovery.recover(new Error('no partial output'), 'reset', live())).toBeUndefined();
    expect(send).not.toHaveBeenCalled();
    expect(declined).toEqual([['tool_call', 3]]);
  });

  it(`continues a stream ${MAX_CONTINUATIONS} times at most`, async () => {
    const send = vi.fn(async () => continuationReader());
    const declined: unknown[] = [];
    const recovery = chatContinuation({ body, setting: { strategy: 'prefill', builder: undefined }, send, onNotContinued: (reason) => declined.push(reason) });
    for (let i = 0; i < MAX_CONTINUATIONS; i++) expect(await recovery.recover(failed(partialChat('w1')), 'stall', live())).toBeDefined();
    expect(await recovery.recover(failed(partialChat('w1')), 'stall', live())).toBeUndefined();
    expect(send).toHaveBeenCalledTimes(MAX_CONTINUATIONS);
    expect(declined).toEqual(['limit']);
  });

  it('a continuation request that fails ends the stream with the original error (which carries the partial output)', async () => {
    const refused = new Error('503');
    const declined: unknown[] = [];
    const recovery = chatContinuation({
      body,
      setting: { strategy: 'prefix', builder: undefined },
      send: async () => Promise.reject(refused),
      onNotContinued: (reason, _chunks, error) => declined.push([reason, error]),
    });
    expect(await recovery.recover(failed(partialChat('w1')), 'truncated', live())).toBeUndefined();
    expect(declined).toEqual([['failed', refused]]);
  });

  it('the caller stopping the stream while the continuation is requested: its abort', async () => {
    const controller = new AbortController();
    const abort = new Error('aborted');
    const recovery = chatContinuation({
      body,
      setting: { strategy: 'prefix', builder: undefined },
      send: async () => {
        controller.abort();
        throw abort;
      },
    });
    await expect(recovery.recover(failed(partialChat('w1')), 'reset', controller.signal)).rejects.toBe(abort);
  });

  it("a builder of the caller's that declines: not continued", async () => {
    const send = vi.fn(async () => continuationReader());
    const recovery = chatContinuation({ body, setting: { strategy: 'custom', builder: () => undefined }, send });
    expect(await recovery.recover(failed(partialChat('w1')), 'reset', live())).toBeUndefined();
    expect(send).not.toHaveBeenCalled();
  });
});
