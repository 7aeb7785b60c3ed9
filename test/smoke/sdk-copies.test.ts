import { createRequire } from 'node:module';
import path from 'node:path';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CircuitOpenError,
  classify,
  DeadlineExceededError,
  isResilienceError,
  partialOutputOf,
  ResilienceError,
  resilient,
  StreamIdleTimeoutError,
  StreamTruncatedError,
  type ErrorKind,
  type ResilienceOptions,
} from '../../src/index.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { faults, startFaultServer, type FaultServer } from '../../src/testing/index.js';
import { chatParams, rejectionOf } from '../support/harness.js';

/**
 * The SDK's CommonJS copy, loaded through `require()` as a CommonJS app loads it, next to the ESM copy that
 * the library (and this file) imports. Under .ci/sdk-matrix.sh it comes from OPENAI_SDK_DIR, the copy
 * under test (openai 5, 6 or 7).
 */
const requireFromHere = createRequire(import.meta.url);
const sdkDir = process.env['OPENAI_SDK_DIR'];
const packageDir = sdkDir ? path.resolve(sdkDir) : path.dirname(requireFromHere.resolve('openai'));
const commonJs = requireFromHere(packageDir) as { default?: typeof OpenAI } & typeof OpenAI;
const CommonJsOpenAI: typeof OpenAI = commonJs.default ?? commonJs;

const servers: FaultServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

type ErrorClass = abstract new (...args: never[]) => ResilienceError;

describe("errors of ours reach the caller built on the client's own SDK copy", () => {
  it('the CommonJS copy is another copy than the ESM one the library imports', () => {
    expect(requireFromHere.resolve(packageDir)).toMatch(/\.js$/);
    expect(CommonJsOpenAI).not.toBe(OpenAI);
    expect(CommonJsOpenAI.OpenAIError).not.toBe(OpenAI.OpenAIError);
  });

  describe.each([
    ['CommonJS (require)', CommonJsOpenAI],
    ['ESM (import)', OpenAI],
  ])('%s', (_format, SDK) => {
    async function client(options: ResilienceOptions = {}) {
      const server = await startFaultServer();
      servers.push(server);
      const clock = new FakeClock(1_700_000_000_000);
      const ai = resilient(new SDK({ apiKey: 'sk-test', baseURL: server.url }), {
        clock,
        retry: false,
        circuitBreaker: false,
        bulkhead: false,
        rateLimit: false,
        ...options,
      });
      return { server, clock, ai };
    }

    /** Ours, unwrapped: our class, our base, this SDK copy's `OpenAIError`; recognised and classified. */
    function expectOurs(error: any, Class: ErrorClass, kind: ErrorKind): void {
      expect(error).toBeInstanceOf(Class);
      expect(error).toBeInstanceOf(ResilienceError);
      expect(error).toBeInstanceOf(SDK.OpenAIError);
      expect(error.constructor).toBe(Class);
      expect(error.name).toBe(Class.name);
      expect(isResilienceError(error)).toBe(true);
      expect(classify(error).kind).toBe(kind);
      for (const Other of [DeadlineExceededError, StreamIdleTimeoutError, StreamTruncatedError, CircuitOpenError]) {
        if (Other !== Class) expect(error).not.toBeInstanceOf(Other);
      }
    }

    it('chat.completions.stream(): a stream that stalls mid-way throws StreamIdleTimeoutError', async () => {
      const { server, clock, ai } = await client({ timeout: { idle: 5_000 } });
      server.enqueue(faults.stream({ stallAfter: 1 }));
      const stream = ai.chat.completions.stream(chatParams);
      const failed = rejectionOf(stream.finalChatCompletion());
      // The helper has the chunks sent so far and waits for the next (the idle watch runs from the start,
      // and a stream nobody is waiting on is abandoned rather than stalled).
      await new Promise((resolve) => stream.on('content', resolve));
      await new Promise((resolve) => setImmediate(resolve));
      await clock.advance(5_000);
      const error = await failed;
      expectOurs(error, StreamIdleTimeoutError, 'timeout');
      expect(error).toMatchObject({ chunks: 2, idle: 5_000 });
    });

    it('responses.stream(): a stream that ends without response.completed throws StreamTruncatedError', async () => {
      const { server, ai } = await client();
      server.enqueue(faults.stream({ omitDone: true }));
      const error = await rejectionOf(ai.responses.stream({ model: 'gpt-4.1-mini', input: 'Say ok' }).finalResponse());
      expectOurs(error, StreamTruncatedError, 'connection');
    });

    it("partialOutputOf reads what arrived: the copy's APIConnectionError of a reset, APIError of an error event, our StreamTruncatedError", async () => {
      const { server, ai } = await client();
      server.enqueue(faults.stream({ chunks: 4, dropAfter: 2 }), faults.stream({ chunks: 4, errorAfter: 1 }), faults.stream({ omitDone: true }));
      const reset = await rejectionOf(ai.chat.completions.stream(chatParams).finalChatCompletion());
      expect(reset).toBeInstanceOf(SDK.APIConnectionError);
      expect(partialOutputOf(reset)).toMatchObject({ api: 'chat.completions', text: 'Hello world' });
      // A chat error event (`data: {"error": ...}`), which every SDK version raises as its APIError.
      const event = await rejectionOf(ai.chat.completions.stream(chatParams).finalChatCompletion());
      expect(event).toBeInstanceOf(SDK.APIError);
      expect(partialOutputOf(event)).toMatchObject({ api: 'chat.completions', text: 'Hello' });
      const truncated = await rejectionOf(ai.responses.stream({ model: 'gpt-4.1-mini', input: 'Say ok' }).finalResponse());
      expectOurs(truncated, StreamTruncatedError, 'connection');
      expect(partialOutputOf(truncated)).toMatchObject({ api: 'responses', text: 'Hello world!', sequenceNumber: 9 });
    });

    it('responses.stream(): a background stream cut mid-text is resumed; finalResponse() and its events are as if nothing happened', async () => {
      const { server, ai } = await client();
      server.enqueue(faults.stream({ chunks: 5, dropAfter: 2 }));
      const stream = ai.responses.stream({ model: 'gpt-4.1-mini', input: 'Say ok', background: true });
      const deltas: string[] = [];
      stream.on('response.output_text.delta', (event) => deltas.push(event.delta));
      const final = await stream.finalResponse();
      // The text of its message items (openai 5's finalResponse() has no `output_text`).
      const text = final.output.flatMap((item) => (item.type === 'message' ? item.content : [])).map((part) => (part.type === 'output_text' ? part.text : '')).join('');
      expect(final.status).toBe('completed');
      expect(text).toBe('Hello world! more more');
      expect(deltas.join('')).toBe('Hello world! more more');
      expect(server.requests.map((r) => r.method)).toEqual(['POST', 'GET']);
    });

    it('chat.completions.stream() with streaming.continuation: a stream cut mid-text is continued; finalChatCompletion() is the whole answer', async () => {
      const { server, ai } = await client({ streaming: { continuation: 'prefix' } });
      server.enqueue(faults.stream({ chunks: 6, words: 'numbered', dropAfter: 2 }), faults.stream({ chunks: 6, words: 'numbered' }));
      const stream = ai.chat.completions.stream(chatParams);
      const deltas: string[] = [];
      stream.on('content', (delta) => deltas.push(delta));
      const final = await stream.finalChatCompletion();
      expect(final.choices[0]?.message.content).toBe('w1 w2 w3 w4 w5 w6');
      expect(deltas.join('')).toBe('w1 w2 w3 w4 w5 w6');
      expect(server.requests).toHaveLength(2);
    });

    it('chat.completions.stream(): a stalled request past timeout.total throws DeadlineExceededError', async () => {
      const { server, clock, ai } = await client({ timeout: { total: 3_000 } });
      server.enqueue(faults.stall());
      const failed = rejectionOf(ai.chat.completions.stream(chatParams).finalChatCompletion());
      await clock.until((timers) => timers.some((timer) => timer.delay === 3_000));
      await clock.advance(3_000);
      const error = await failed;
      expectOurs(error, DeadlineExceededError, 'deadline_exceeded');
      expect(error).toMatchObject({ timeout: 3_000, attempts: 1 });
    });

    it('chat.completions.stream() on an open circuit throws CircuitOpenError, whose cause is the SDK copy’s error', async () => {
      const { server, ai } = await client({ circuitBreaker: { consecutiveFailures: 1, waitForProbe: 0 } });
      server.enqueue(faults.serverError(500));
      expect(await rejectionOf(ai.chat.completions.create(chatParams))).toBeInstanceOf(SDK.InternalServerError);
      const error = await rejectionOf(ai.chat.completions.stream(chatParams).finalChatCompletion());
      expectOurs(error, CircuitOpenError, 'circuit_open');
      expect(error.cause).toBeInstanceOf(SDK.InternalServerError);
      expect(server.requests).toHaveLength(1);
    });

    it('chat.completions.runTools() on an open circuit throws CircuitOpenError', async () => {
      const { server, ai } = await client({ circuitBreaker: { consecutiveFailures: 1, waitForProbe: 0 } });
      server.enqueue(faults.serverError(500));
      await rejectionOf(ai.chat.completions.create(chatParams));
      const add = (args: { a: number; b: number }) => args.a + args.b;
      const runner = ai.chat.completions.runTools({
        ...chatParams,
        tools: [{ type: 'function', function: { name: 'add', description: 'Adds a and b', parameters: { type: 'object', properties: {} }, function: add, parse: JSON.parse } }],
      });
      expectOurs(await rejectionOf(runner.finalContent()), CircuitOpenError, 'circuit_open');
    });

    it('chat.completions.create(): DeadlineExceededError is an OpenAIError of the same copy', async () => {
      const { server, clock, ai } = await client({ timeout: { total: 3_000 } });
      server.enqueue(faults.stall());
      const failed = rejectionOf(ai.chat.completions.create(chatParams));
      await clock.until((timers) => timers.some((timer) => timer.delay === 3_000));
      await clock.advance(3_000);
      expectOurs(await failed, DeadlineExceededError, 'deadline_exceeded');
    });
  });
});
