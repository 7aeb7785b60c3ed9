import http from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { classify, DeadlineExceededError, resilient, type ResilienceOptions, type TimeoutEvent } from '../../src/index.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { chatParams, rejectionOf, until } from '../support/harness.js';

/**
 * A non-stream answer whose body is stalled or cut, from a small `node:http` server written here rather
 * than the fault server, so that the failure has exactly the shape of a real one: headers sent with a
 * `Content-Length`, then nothing, or part of the body and a destroyed socket.
 */
const ANSWER = JSON.stringify({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-4.1-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
});

type Behaviour = 'stall' | 'cut' | 'answer' | 'trickle';

interface BodyServer {
  url: string;
  /** Requests received so far. */
  requests: number;
  /** Connections the client closed while their body was unfinished. */
  abandoned: number;
  /** For `trickle`: the answers being written, to be fed by the test. */
  open: http.ServerResponse[];
}

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((server) => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    }),
  );
});

/** Answers each request with the next behaviour of `plan` (the last one repeats). */
async function bodyServer(...plan: Behaviour[]): Promise<BodyServer> {
  const state: BodyServer = { url: '', requests: 0, abandoned: 0, open: [] };
  const server = http.createServer((request, response) => {
    const behaviour = plan[Math.min(state.requests, plan.length - 1)]!;
    state.requests++;
    request.resume();
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(ANSWER)) });
    response.on('close', () => {
      if (!response.writableFinished) state.abandoned++;
    });
    if (behaviour === 'answer') response.end(ANSWER);
    else if (behaviour === 'stall') response.flushHeaders();
    else if (behaviour === 'trickle') {
      response.write(ANSWER.slice(0, 10));
      state.open.push(response);
    } else {
      response.write(ANSWER.slice(0, ANSWER.length / 2), () => setImmediate(() => response.destroy()));
    }
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return state;
}

/** A resilient client on `server`: on a fake clock (signalled attempts) unless `clock` is false (timed attempts). */
function client(
  server: BodyServer,
  options: ResilienceOptions,
  clock: FakeClock | false = new FakeClock(1_000),
  fetch?: typeof globalThis.fetch,
) {
  const timeouts: TimeoutEvent[] = [];
  const retries: string[] = [];
  const ai = resilient(new OpenAI({ apiKey: 'sk-test', baseURL: server.url, ...(fetch ? { fetch } : {}) }), {
    circuitBreaker: false,
    bulkhead: false,
    rateLimit: false,
    ...(clock ? { clock } : {}),
    ...options,
    retry: options.retry === false ? false : { jitter: false, budget: false, initialDelay: 1, ...options.retry },
  });
  ai.resilience.on('timeout', (event) => timeouts.push(event));
  ai.resilience.on('retry', (event) => retries.push(event.kind));
  return { ai, timeouts, retries };
}

/**
 * Node's fetch, counting the pieces of each body as they are handed on to whoever reads it, so that a test
 * on a fake clock knows when the client has seen a piece before it moves time on.
 */
function countingFetch() {
  const counted = { pieces: 0 };
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const response = await globalThis.fetch(input, init);
    if (!response.body) return response;
    const body = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(piece, controller) {
          counted.pieces++;
          controller.enqueue(piece);
        },
      }),
    );
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
  return { fetch, counted };
}

/** Advances `clock` by `ms` once a timer of exactly `ms` waits on it (the body's idle watch, a backoff). */
async function advanceWhenArmed(clock: FakeClock, ms: number): Promise<void> {
  await clock.until((timers) => timers.some((timer) => timer.delay === ms));
  await clock.advance(ms);
}

describe('a body cut mid-way (headers and Content-Length sent, socket destroyed mid-body)', () => {
  it("fails as the SDK's APIConnectionError after the retries, classified and retried as connection", async () => {
    const server = await bodyServer('cut');
    const clock = new FakeClock(1_000);
    const { ai, retries } = client(server, { retry: { maxRetries: 2 } }, clock);
    const call = rejectionOf(ai.chat.completions.create(chatParams));
    await advanceWhenArmed(clock, 1);
    await advanceWhenArmed(clock, 2);
    const error = await call;
    expect(error).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(error).not.toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(error.message).toBe('Connection lost while reading the response body.');
    expect(String(error.cause)).toMatch(/terminated/);
    expect(classify(error)).toMatchObject({ kind: 'connection', action: 'retry' });
    expect(retries).toEqual(['connection', 'connection']);
    expect(server.requests).toBe(3);
  });

  it('is retried: a cut, then the whole answer', async () => {
    const server = await bodyServer('cut', 'answer');
    const clock = new FakeClock(1_000);
    const { ai } = client(server, {}, clock);
    const call = ai.chat.completions.create(chatParams);
    await advanceWhenArmed(clock, 1);
    expect((await call).choices[0]!.message.content).toBe('ok');
    expect(server.requests).toBe(2);
  });

  it('is an APIConnectionError on the timed path too (system clock, no signal)', async () => {
    const server = await bodyServer('cut');
    const { ai } = client(server, { retry: false }, false);
    const error = await rejectionOf(ai.chat.completions.create(chatParams));
    expect(error).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(error.message).toBe('Connection lost while reading the response body.');
  });
});

describe('a body that never arrives (headers sent, then silence)', () => {
  it('is cut by timeout.idle: the connection is closed and the attempt retried as a timeout', async () => {
    const server = await bodyServer('stall');
    const clock = new FakeClock(1_000);
    const { ai, timeouts, retries } = client(server, { retry: { maxRetries: 1 }, timeout: { idle: 5_000 } }, clock);
    const call = rejectionOf(ai.chat.completions.create(chatParams));
    await advanceWhenArmed(clock, 5_000);
    await advanceWhenArmed(clock, 1);
    await advanceWhenArmed(clock, 5_000);
    const error = await call;
    expect(error).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(error.message).toBe('No data for 5000 ms while reading the response body.');
    expect(classify(error)).toMatchObject({ kind: 'timeout', action: 'retry' });
    expect(retries).toEqual(['timeout']);
    expect(timeouts.map((event) => [event.timeout, event.limit])).toEqual([
      ['idle', 5_000],
      ['idle', 5_000],
    ]);
    expect(server.requests).toBe(2);
    await until(() => server.abandoned === 2);
    expect(clock.pending()).toEqual([]);
  });

  it('with the default limits, the call ends after three idle limits (about 6 minutes), not after 900 s', async () => {
    const server = await bodyServer('stall');
    const clock = new FakeClock(1_000);
    const { ai, retries } = client(server, { retry: { initialDelay: 500 } }, clock);
    const call = rejectionOf(ai.chat.completions.create(chatParams));
    await advanceWhenArmed(clock, 120_000);
    await advanceWhenArmed(clock, 500);
    await advanceWhenArmed(clock, 120_000);
    await advanceWhenArmed(clock, 1_000);
    await advanceWhenArmed(clock, 120_000);
    expect(await call).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(retries).toEqual(['timeout', 'timeout']);
    expect(server.requests).toBe(3);
    expect(clock.now() - 1_000).toBe(361_500);
  });

  it('a body that keeps arriving, each piece within timeout.idle, is not cut however long it takes', async () => {
    const server = await bodyServer('trickle');
    const clock = new FakeClock(1_000);
    const { fetch, counted } = countingFetch();
    const { ai, timeouts } = client(server, { timeout: { idle: 5_000 } }, clock, fetch);
    const call = ai.chat.completions.create(chatParams);
    await clock.until((timers) => timers.some((timer) => timer.delay === 5_000));
    await until(() => counted.pieces === 1);
    const response = server.open[0]!;
    for (let piece = 1; piece <= 3; piece++) {
      await clock.advance(4_000);
      response.write(ANSWER.slice(piece * 10, piece * 10 + 10));
      await until(() => counted.pieces === piece + 1);
    }
    await clock.advance(4_000);
    response.end(ANSWER.slice(40));
    expect((await call).choices[0]!.message.content).toBe('ok');
    expect(clock.now() - 1_000).toBe(16_000);
    expect(timeouts).toEqual([]);
    expect(server.requests).toBe(1);
  });

  it('timeout.total shorter than timeout.idle ends the call with DeadlineExceededError', async () => {
    const server = await bodyServer('stall');
    const clock = new FakeClock(1_000);
    const { ai, timeouts } = client(server, { timeout: { idle: 5_000, total: 3_000 } }, clock);
    const call = rejectionOf(ai.chat.completions.create(chatParams));
    await clock.until((timers) => timers.some((timer) => timer.delay === 5_000));
    await clock.advance(3_000);
    const error = await call;
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(timeouts.map((event) => event.timeout)).toEqual(['total']);
    expect(server.requests).toBe(1);
    await until(() => server.abandoned === 1);
  });

  it('timeout.total bounds the retries of stalled bodies: no retry starts that cannot fit', async () => {
    const server = await bodyServer('stall');
    const clock = new FakeClock(1_000);
    const { ai } = client(server, { retry: { maxRetries: 5 }, timeout: { idle: 5_000, total: 8_000 } }, clock);
    const call = rejectionOf(ai.chat.completions.create(chatParams));
    await advanceWhenArmed(clock, 5_000);
    await advanceWhenArmed(clock, 1);
    await clock.until((timers) => timers.some((timer) => timer.delay === 5_000));
    await clock.advance(2_999);
    const error = await call;
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(error.cause).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(server.requests).toBe(2);
    expect(clock.now() - 1_000).toBe(8_000);
  });

  it('is cut by timeout.idle on the timed path too (system clock, no signal)', async () => {
    const server = await bodyServer('stall');
    const { ai, timeouts } = client(server, { retry: false, timeout: { idle: 50 } }, false);
    const error = await rejectionOf(ai.chat.completions.create(chatParams));
    expect(error).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(error.message).toBe('No data for 50 ms while reading the response body.');
    expect(timeouts.map((event) => event.timeout)).toEqual(['idle']);
    await until(() => server.abandoned === 1);
  });

  it('timeout.attempt bounds the whole body on the timed path (before timeout.idle runs out)', async () => {
    const server = await bodyServer('stall');
    const { ai, timeouts } = client(server, { retry: false, timeout: { attempt: 50, idle: 60_000 } }, false);
    const error = await rejectionOf(ai.chat.completions.create(chatParams));
    expect(error).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(error.message).toBe('Request timed out after 50 ms.');
    expect(timeouts.map((event) => event.timeout)).toEqual(['attempt']);
    await until(() => server.abandoned === 1);
  });

  it('timeout.attempt bounds the whole body on the signalled path too', async () => {
    const server = await bodyServer('stall');
    const clock = new FakeClock(1_000);
    const { ai, timeouts } = client(server, { retry: false, timeout: { attempt: 3_000, idle: 5_000 } }, clock);
    const call = rejectionOf(ai.chat.completions.create(chatParams));
    await clock.until((timers) => timers.some((timer) => timer.delay === 5_000));
    await clock.advance(3_000);
    const error = await call;
    expect(error).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(timeouts.map((event) => event.timeout)).toEqual(['attempt']);
  });
});
