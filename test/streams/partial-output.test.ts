import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { faults } from '../../src/testing/index.js';
import {
  partialOutputOf,
  resilient,
  StreamAbandonedError,
  StreamIdleTimeoutError,
  StreamTruncatedError,
  type CallEndEvent,
  type PartialOutput,
} from '../../src/index.js';
import { HELD_EVENTS_LIMIT } from '../../src/streams/received-output.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { chatParams, harness, quietOptions, rejectionOf, until } from '../support/harness.js';
import { chatChunk, delta, sseUpstream, toolCallDelta, type ScriptedStream } from '../support/sse-upstream.js';

const chatStream = { ...chatParams, stream: true as const };
const responsesStream = { model: 'gpt-4.1-mini', input: 'hi', stream: true as const };

/** Reads `stream` to its end; the error it ends with. */
async function failureOf(stream: AsyncIterable<unknown>): Promise<any> {
  return rejectionOf(
    (async () => {
      for await (const _ of stream) void _;
    })(),
  );
}

/** A resilient client on a loopback upstream that writes `answers` exactly. */
async function scripted(...answers: ScriptedStream[]) {
  const upstream = await sseUpstream(...answers);
  const clock = new FakeClock(1_700_000_000_000);
  const ai = resilient(new OpenAI({ apiKey: 'sk-test', baseURL: upstream.url, maxRetries: 0 }), quietOptions(clock, { retry: false }));
  return { ai, clock, upstream };
}

const toolCallStart = [
  chatChunk([delta(0, { role: 'assistant', content: null, tool_calls: [toolCallDelta(0, { id: 'call_a', name: 'weather', arguments: '' })] })]),
  chatChunk([delta(0, { tool_calls: [toolCallDelta(0, { arguments: '{"city":' })] })]),
];

describe('partialOutputOf: chat streams', () => {
  it("a reset mid-text: the SDK's APIConnectionError carries the text, the completion's id and model", async () => {
    const { server, ai } = await harness();
    server.enqueue(faults.stream({ chunks: 4, dropAfter: 2 }));
    const error = await failureOf(await ai.chat.completions.create(chatStream));
    expect(error).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(partialOutputOf(error)).toEqual<PartialOutput>({
      api: 'chat.completions',
      id: expect.stringMatching(/^chatcmpl-/),
      model: 'gpt-4.1-mini',
      created: expect.any(Number),
      systemFingerprint: 'fp_fault_server',
      text: 'Hello world',
      refusal: undefined,
      toolCalls: [],
      choices: [{ index: 0, text: 'Hello world', refusal: undefined, toolCalls: [], finishReason: undefined }],
      sequenceNumber: undefined,
      usage: undefined,
      chunks: 3,
    });
    expect(server.requests).toHaveLength(1);
  });

  it('a stream cut at its terminal event (no [DONE]): StreamTruncatedError carries the whole text, its finish reason and usage', async () => {
    const { server, ai } = await harness();
    server.enqueue(faults.stream({ chunks: 3, omitDone: true }));
    const error = await failureOf(await ai.chat.completions.create({ ...chatStream, stream_options: { include_usage: true } }));
    expect(error).toBeInstanceOf(StreamTruncatedError);
    const partial = partialOutputOf(error);
    expect(partial).toMatchObject({ text: 'Hello world!', chunks: 6, usage: { prompt_tokens: expect.any(Number), completion_tokens: 3 } });
    expect(partial?.choices[0]?.finishReason).toBe('stop');
  });

  it("an error event mid-stream: the SDK's own APIError carries what came before it, and so does callEnd's error", async () => {
    const { server, ai } = await harness();
    const ends: CallEndEvent[] = [];
    ai.resilience.on('callEnd', (event) => ends.push(event));
    server.enqueue(faults.stream({ chunks: 4, errorAfter: 2, doneAfterError: true }));
    const error = await failureOf(await ai.chat.completions.create(chatStream));
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(error).not.toBeInstanceOf(OpenAI.APIConnectionError);
    expect(partialOutputOf(error)).toMatchObject({ text: 'Hello world', chunks: 3 });
    await until(() => ends.length === 1);
    // One output, assembled once, whichever error it is read from.
    expect(partialOutputOf(ends[0]!.error)).toBe(partialOutputOf(error));
  });

  it('a stall mid-text (fake clock): StreamIdleTimeoutError carries the text', async () => {
    const { server, clock, ai } = await harness({ timeout: { idle: 5_000 } });
    server.enqueue(faults.stream({ chunks: 4, stallAfter: 2 }));
    const iterator = (await ai.chat.completions.create(chatStream))[Symbol.asyncIterator]();
    for (let i = 0; i < 3; i++) await iterator.next();
    const failed = rejectionOf(iterator.next());
    await new Promise((resolve) => setImmediate(resolve));
    await clock.advance(5_000);
    const error = await failed;
    expect(error).toBeInstanceOf(StreamIdleTimeoutError);
    expect(partialOutputOf(error)).toMatchObject({ text: 'Hello world', chunks: 3 });
  });

  it('a stream nobody reads, abandoned: StreamAbandonedError carries what arrived', async () => {
    const { server, clock, ai } = await harness({ timeout: { idle: 5_000 } });
    server.enqueue(faults.stream({ chunks: 4, stallAfter: 2 }));
    const stream = await ai.chat.completions.create(chatStream);
    await until(() => server.requests.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await clock.advance(5_000);
    const error = await failureOf(stream);
    expect(error).toBeInstanceOf(StreamAbandonedError);
    expect(partialOutputOf(error)).toMatchObject({ text: 'Hello world' });
  });

  it('n = 2: the text of each choice', async () => {
    const { ai } = await scripted({
      frames: [
        chatChunk([delta(0, { role: 'assistant', content: '' })]),
        chatChunk([delta(1, { role: 'assistant', content: '' })]),
        chatChunk([delta(0, { content: 'Red' })]),
        chatChunk([delta(1, { content: 'Blue' })]),
        chatChunk([delta(0, { content: ' sky' })]),
        chatChunk([delta(0, {}, 'stop')]),
        chatChunk([delta(1, { content: ' se' })]),
      ],
      end: 'drop',
    });
    const error = await failureOf(await ai.chat.completions.create({ ...chatStream, n: 2 }));
    const partial = partialOutputOf(error)!;
    expect(partial.text).toBe('Red sky');
    expect(partial.choices.map(({ index, text, finishReason }) => ({ index, text, finishReason }))).toEqual([
      { index: 0, text: 'Red sky', finishReason: 'stop' },
      { index: 1, text: 'Blue se', finishReason: undefined },
    ]);
  });

  it('mid-tool-call: the arguments so far, marked incomplete', async () => {
    const { ai } = await scripted({ frames: toolCallStart, end: 'drop' });
    const error = await failureOf(await ai.chat.completions.create(chatStream));
    expect(error).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(partialOutputOf(error)?.toolCalls).toEqual([{ index: 0, id: 'call_a', name: 'weather', arguments: '{"city":', complete: false }]);
    expect(partialOutputOf(error)?.text).toBe('');
  });

  it('after a complete tool call: that one complete, the next one as far as it came', async () => {
    const { ai } = await scripted({
      frames: [
        ...toolCallStart,
        chatChunk([delta(0, { tool_calls: [toolCallDelta(0, { arguments: '"Paris"}' })] })]),
        chatChunk([delta(0, { tool_calls: [toolCallDelta(1, { id: 'call_b', name: 'time', arguments: '{"tz' })] })]),
      ],
      end: 'drop',
    });
    const error = await failureOf(await ai.chat.completions.create(chatStream));
    expect(partialOutputOf(error)?.toolCalls).toEqual([
      { index: 0, id: 'call_a', name: 'weather', arguments: '{"city":"Paris"}', complete: true },
      { index: 1, id: 'call_b', name: 'time', arguments: '{"tz', complete: false },
    ]);
  });

  it('cut at the terminal event after tool calls (finish_reason, no [DONE]): every call complete; a refusal kept', async () => {
    const { ai } = await scripted({
      frames: [
        ...toolCallStart,
        chatChunk([delta(0, { tool_calls: [toolCallDelta(0, { arguments: '"Paris"}' })] })]),
        chatChunk([delta(0, { refusal: 'I can' })]),
        chatChunk([delta(0, { refusal: "'t." })]),
        chatChunk([delta(0, {}, 'tool_calls')]),
      ],
      end: 'end',
    });
    const error = await failureOf(await ai.chat.completions.create(chatStream));
    expect(error).toBeInstanceOf(StreamTruncatedError);
    const partial = partialOutputOf(error)!;
    expect(partial.toolCalls).toEqual([{ index: 0, id: 'call_a', name: 'weather', arguments: '{"city":"Paris"}', complete: true }]);
    expect(partial.refusal).toBe("I can't.");
    expect(partial.choices[0]?.finishReason).toBe('tool_calls');
  });

  it('a tool call cut by the token limit (finish_reason length) is incomplete', async () => {
    const { ai } = await scripted({ frames: [...toolCallStart, chatChunk([delta(0, {}, 'length')])], end: 'end' });
    const error = await failureOf(await ai.chat.completions.create(chatStream));
    expect(error).toBeInstanceOf(StreamTruncatedError);
    expect(partialOutputOf(error)?.toolCalls).toMatchObject([{ arguments: '{"city":', complete: false }]);
    expect(partialOutputOf(error)?.choices[0]?.finishReason).toBe('length');
  });

  it('a long stream is assembled whole (its events folded into its output as they add up)', async () => {
    const { server, ai } = await harness();
    const chunks = 2_000;
    server.enqueue(faults.stream({ chunks, dropAfter: chunks - 1 }));
    const error = await failureOf(await ai.chat.completions.create(chatStream));
    const partial = partialOutputOf(error)!;
    expect(partial.chunks).toBe(chunks);
    expect(partial.text).toBe(`Hello world!${' more'.repeat(chunks - 4)}`);
    // It did fold: the events the stream received are well past what is held at once.
    expect(partial.chunks * 200).toBeGreaterThan(HELD_EVENTS_LIMIT);
  });

  it('nothing for a failure that is not a stream failed after its first chunk', async () => {
    const { server, ai } = await harness({ retry: false });
    server.enqueue(faults.serverError(500), faults.serverError(500));
    expect(partialOutputOf(await rejectionOf(ai.chat.completions.create(chatStream)))).toBeUndefined();
    expect(partialOutputOf(await rejectionOf(ai.chat.completions.create(chatParams)))).toBeUndefined();
    for (const value of [undefined, null, 'text', new Error('plain'), { headers: new Headers() }]) expect(partialOutputOf(value)).toBeUndefined();
  });
});

describe('partialOutputOf: Responses streams', () => {
  it('a reset mid-text: the text, the response id and the last sequence number', async () => {
    const { server, ai } = await harness();
    server.enqueue(faults.stream({ chunks: 4, dropAfter: 2 }));
    const error = await failureOf(await ai.responses.create(responsesStream));
    expect(error).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(partialOutputOf(error)).toMatchObject({
      api: 'responses',
      id: expect.stringMatching(/^resp_/),
      model: 'gpt-4.1-mini',
      text: 'Hello world',
      toolCalls: [],
      // response.created (0) ... content_part.added (3), then the two deltas.
      sequenceNumber: 5,
      chunks: 2,
    });
  });

  it('an error event: the APIError carries the output and the sequence number before the error', async () => {
    const { server, ai } = await harness();
    server.enqueue(faults.stream({ chunks: 4, errorAfter: 3 }));
    const error = await failureOf(await ai.responses.create(responsesStream));
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(partialOutputOf(error)).toMatchObject({ text: 'Hello world!', sequenceNumber: 6 });
  });

  it('cut at the terminal event (no response.completed): StreamTruncatedError carries the whole text', async () => {
    const { server, ai } = await harness();
    server.enqueue(faults.stream({ chunks: 3, omitDone: true }));
    const error = await failureOf(await ai.responses.create(responsesStream));
    expect(error).toBeInstanceOf(StreamTruncatedError);
    expect(partialOutputOf(error)).toMatchObject({ api: 'responses', text: 'Hello world!', sequenceNumber: 9 });
  });

  const created = { type: 'response.created', sequence_number: 0, response: { id: 'resp_partial', object: 'response', model: 'gpt-4.1-mini', status: 'in_progress', output: [] } };
  const callAdded = (index: number, callId: string, name: string) => ({
    type: 'response.output_item.added',
    output_index: index,
    item: { type: 'function_call', id: `fc_${callId}`, call_id: callId, name, arguments: '', status: 'in_progress' },
  });
  const argsDelta = (index: number, text: string) => ({ type: 'response.function_call_arguments.delta', output_index: index, item_id: `fc_${index}`, delta: text });
  const numbered = (events: Array<Record<string, unknown>>) => events.map((event, sequence) => ({ ...event, sequence_number: sequence }));

  it('function calls: a finished one complete, the next as far as its arguments came', async () => {
    const { ai } = await scripted({
      frames: numbered([
        created,
        callAdded(0, 'call_a', 'weather'),
        argsDelta(0, '{"city":'),
        argsDelta(0, '"Paris"}'),
        { type: 'response.function_call_arguments.done', output_index: 0, item_id: 'fc_call_a', arguments: '{"city":"Paris"}' },
        callAdded(1, 'call_b', 'time'),
        argsDelta(1, '{"tz"'),
      ]),
      end: 'drop',
    });
    const error = await failureOf(await ai.responses.create(responsesStream));
    expect(partialOutputOf(error)).toMatchObject({
      api: 'responses',
      id: 'resp_partial',
      sequenceNumber: 6,
      toolCalls: [
        { index: 0, id: 'call_a', name: 'weather', arguments: '{"city":"Paris"}', complete: true },
        { index: 1, id: 'call_b', name: 'time', arguments: '{"tz"', complete: false },
      ],
    });
  });

  it("response.failed after output: the caller receives the event, as from the SDK; callEnd's error carries the output", async () => {
    const { ai } = await scripted({
      frames: numbered([
        created,
        { type: 'response.output_text.delta', output_index: 0, content_index: 0, item_id: 'msg_1', delta: 'Half an ans' },
        { type: 'response.failed', response: { ...created.response, status: 'failed', error: { code: 'server_error', message: 'boom' } } },
      ]),
      end: 'end',
    });
    const ends: CallEndEvent[] = [];
    ai.resilience.on('callEnd', (event) => ends.push(event));
    const types: string[] = [];
    for await (const event of await ai.responses.create(responsesStream)) types.push(event.type);
    expect(types.at(-1)).toBe('response.failed');
    await until(() => ends.length === 1);
    expect(ends[0]!.error).toBeInstanceOf(OpenAI.APIError);
    expect(partialOutputOf(ends[0]!.error)).toMatchObject({ text: 'Half an ans', id: 'resp_partial', sequenceNumber: 1 });
  });
});

describe('partialOutputOf: the SDK helpers', () => {
  it('chat.completions.stream(): a reset mid-text', async () => {
    const { server, ai } = await harness();
    server.enqueue(faults.stream({ chunks: 4, dropAfter: 2 }));
    const error = await rejectionOf(ai.chat.completions.stream(chatParams).finalChatCompletion());
    expect(error).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(partialOutputOf(error)).toMatchObject({ text: 'Hello world' });
  });

  it('chat.completions.stream(): a tool call cut mid-arguments', async () => {
    const { ai } = await scripted({ frames: toolCallStart, end: 'drop' });
    const error = await rejectionOf(ai.chat.completions.stream(chatParams).finalChatCompletion());
    expect(partialOutputOf(error)?.toolCalls).toEqual([{ index: 0, id: 'call_a', name: 'weather', arguments: '{"city":', complete: false }]);
  });

  it('responses.stream(): no response.completed', async () => {
    const { server, ai } = await harness();
    server.enqueue(faults.stream({ chunks: 3, omitDone: true }));
    const error = await rejectionOf(ai.responses.stream({ model: 'gpt-4.1-mini', input: 'hi' }).finalResponse());
    expect(error).toBeInstanceOf(StreamTruncatedError);
    expect(partialOutputOf(error)).toMatchObject({ api: 'responses', text: 'Hello world!' });
  });

  it('responses.stream(): an error event', async () => {
    const { server, ai } = await harness();
    server.enqueue(faults.stream({ chunks: 3, errorAfter: 1 }));
    const error = await rejectionOf(ai.responses.stream({ model: 'gpt-4.1-mini', input: 'hi' }).finalResponse());
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(partialOutputOf(error)).toMatchObject({ text: 'Hello', sequenceNumber: 4 });
  });
});
