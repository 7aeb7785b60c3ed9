import OpenAI from 'openai';
import { Stream } from 'openai/streaming';
import { describe, expect, it, vi } from 'vitest';
import { roleOf, type StreamMode } from '../../src/responses/event-role.js';
import type { SseEvent } from '../../src/responses/sse-scanner.js';

const event = (data: string, name?: string): SseEvent => ({ name, data });

/** Whether the SDK's own `Stream.fromSSEResponse` raises an `APIError` when it reads `sse` in `mode`. */
async function sdkRaises(sse: SseEvent, mode: StreamMode): Promise<boolean> {
  const data = sse.data.split('\n').map((line) => `data: ${line}\n`).join('');
  const body = `${sse.name === undefined ? '' : `event: ${sse.name}\n`}${data}\ndata: [DONE]\n\n`;
  const response = new Response(body, { headers: { 'content-type': 'text/event-stream' } });
  const stream = (Stream.fromSSEResponse as (...args: unknown[]) => Stream<unknown>)(response, new AbortController(), undefined, false, mode);
  try {
    for await (const _item of stream) {
      // read to the end
    }
    return false;
  } catch (error) {
    if (error instanceof OpenAI.APIError) return true;
    throw error;
  }
}

/** What the SDK makes of these events, and so must we: `true` when it raises them as an `APIError`. */
const SDK_CASES: Array<[string, SseEvent, boolean]> = [
  ['a chat chunk', event('{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hi"}}]}'), false],
  [
    "OpenRouter's mid-stream error: a chunk with choices and an error member",
    event('{"id":"gen-1","object":"chat.completion.chunk","created":1,"model":"m","provider":"p","error":{"code":"server_error","message":"Provider disconnected unexpectedly"},"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}]}'),
    true,
  ],
  ['an error object, spaced', event('{ "error" : { "message" : "x" } }'), true],
  ['an error object, on many lines', event('{\n\t"error":\n\t{"message": "x"}\n}'), true],
  ['an error key spelt with a JSON escape', event('{"\\u0065rror":{"message":"x"}}'), true],
  ['an error string', event('{"error":"boom"}'), true],
  ['an empty error object', event('{"id":"c","error":{}}'), true],
  ['an error list', event('{"error":[]}'), true],
  ['error: null (Responses objects carry it)', event('{"type":"response.created","response":{"id":"r","error":null}}'), false],
  ['error: false', event('{"error":false}'), false],
  ['error: ""', event('{"error":""}'), false],
  ['error: 0', event('{"error":0}'), false],
  ['an error member below the top level', event('{"id":"c","choices":[{"index":0,"error":{"message":"x"}}]}'), false],
  ['a delta saying "error"', event('{"id":"c","choices":[{"index":0,"delta":{"content":"an \\"error\\": on line 3, error"}}]}'), false],
  ['a delta holding JSON with an error key', event('{"id":"c","choices":[{"index":0,"delta":{"content":"{\\"error\\": {\\"message\\": 1}}"}}]}'), false],
  ['an event named error', event('{"type":"error","code":"server_error","message":"x","param":null}', 'error'), true],
  ['an event named error, with an empty payload', event('{}', 'error'), true],
  ['another named event with an error member', event('{"type":"response.output_text.delta","error":{"message":"x"}}', 'response.output_text.delta'), true],
  ['an Assistants thread.* event with an error member', event('{"id":"run_1","error":{"message":"x"}}', 'thread.run.failed'), false],
  ['an Assistants thread.* event', event('{"id":"run_1","last_error":{"message":"x"}}', 'thread.run.failed'), false],
];

describe('roleOf', () => {
  it('tells lifecycle, content, terminal and error events apart', () => {
    expect(roleOf(event('[DONE]'))).toBe('terminal');
    expect(roleOf(event('{"id":"c","choices":[]}'))).toBe('content');
    expect(roleOf(event('{"error":{"message":"x"}}'))).toBe('error');
    expect(roleOf(event('{}', 'error'))).toBe('error');
    expect(roleOf(event('{}', 'response.created'))).toBe('lifecycle');
    expect(roleOf(event('{"type":"response.in_progress"}'))).toBe('lifecycle');
    expect(roleOf(event('{}', 'response.output_text.delta'))).toBe('content');
    expect(roleOf(event('{"type":"response.completed"}'))).toBe('terminal');
    // An `event:` line with no name names nothing: the payload's type decides.
    expect(roleOf(event('{"type":"response.completed"}', ''))).toBe('terminal');
  });

  it("reads a payload's type only where it leads, however spaced (chat chunks lead with another key)", () => {
    expect(roleOf(event('{ "type" : "response.completed" }'))).toBe('terminal');
    expect(roleOf(event('{\n\t"type":"response.completed"}'))).toBe('terminal');
    expect(roleOf(event('{"id":"r","type":"response.completed"}'))).toBe('content');
    expect(roleOf(event(' {"type":"response.completed"}'))).toBe('content');
    expect(roleOf(event('{"typed":"response.completed"}'))).toBe('content');
  });

  it('ends an Images API stream at the event carrying the final image (it sends no [DONE])', () => {
    expect(roleOf(event('{}', 'image_generation.partial_image'))).toBe('content');
    expect(roleOf(event('{}', 'image_generation.completed'))).toBe('terminal');
    expect(roleOf(event('{"type":"image_edit.completed"}'))).toBe('terminal');
  });

  it.each(SDK_CASES)('calls an error exactly what the SDK raises as one: %s', async (_name, sse, raised) => {
    expect(await sdkRaises(sse, 'legacy')).toBe(raised);
    expect(roleOf(sse) === 'error').toBe(raised);
  });

  it('calls nothing an error in the SDK\'s `events` mode (the Agents API), where the SDK raises none', async () => {
    for (const [, sse] of SDK_CASES) {
      expect(await sdkRaises(sse, 'events')).toBe(false);
      expect(roleOf(sse, 'events')).not.toBe('error');
    }
  });

  it('also calls a Responses `error` event sent without its `event:` line an error (responses.stream() raises it)', () => {
    expect(roleOf(event('{"type":"error","code":"server_error","message":"x","param":null,"sequence_number":3}'))).toBe('error');
  });

  it('parses only a payload whose text can hold a truthy error member', () => {
    const notParsed = [
      'a chat chunk', 'error: null (Responses objects carry it)', 'error: false', 'error: ""', 'a delta saying "error"',
      'a delta holding JSON with an error key', 'an event named error', 'an Assistants thread.* event with an error member',
    ].map((name) => SDK_CASES.find(([caseName]) => caseName === name)![1]);
    const escapedText = event('{"id":"c","choices":[{"index":0,"delta":{"content":"caf\\u00e9 \\ud83d\\ude00"}}]}');
    const parse = vi.spyOn(JSON, 'parse');
    try {
      for (const sse of [...notParsed, escapedText]) roleOf(sse);
      expect(parse).not.toHaveBeenCalled();
      expect(roleOf(event('{"error":{"message":"x"}}'))).toBe('error');
      expect(parse).toHaveBeenCalledTimes(1);
    } finally {
      parse.mockRestore();
    }
  });
});
