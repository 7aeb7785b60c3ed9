import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { faults } from '../../src/testing/index.js';
import {
  MalformedResponseError,
  partialOutputOf,
  resilient,
  ResponseCancelledError,
  StreamIdleTimeoutError,
  type BudgetExhaustedEvent,
  type StreamResumeEvent,
} from '../../src/index.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { drive, harness, quietOptions, until } from '../support/harness.js';
import { sseUpstream } from '../support/sse-upstream.js';
import { comparableEvents, drain, responseIdOf } from '../support/stream-drain.js';

type Event = OpenAI.Responses.ResponseStreamEvent;
const background = { model: 'gpt-4.1-mini', input: 'hi', background: true, stream: true as const };


/** The events of an undisturbed background stream of `chunks` deltas. */
async function undisturbed(chunks = 3): Promise<string[]> {
  const { server, ai } = await harness();
  if (chunks !== 3) server.enqueue(faults.stream({ chunks }));
  const list: Event[] = [];
  expect(await drain(await ai.responses.create(background), list)).toBeUndefined();
  return comparableEvents(list);
}

describe('resuming a background Responses stream', () => {
  it('a reset mid-text: the stream goes on from the last event, none missing and none twice, and a streamResume event says so', async () => {
    const expected = await undisturbed(6);
    const { server, ai } = await harness();
    const resumes: StreamResumeEvent[] = [];
    ai.resilience.on('streamResume', (event) => resumes.push(event));
    server.enqueue(faults.stream({ chunks: 6, dropAfter: 2 }));
    const list: Event[] = [];
    expect(await drain(await ai.responses.create(background), list)).toBeUndefined();
    expect(comparableEvents(list)).toEqual(expected);
    expect(list.map((e) => e.sequence_number)).toEqual(list.map((_, i) => i));
    const resume = server.requests[1]!;
    expect(resume).toMatchObject({ method: 'GET', path: `/responses/${responseIdOf(list)}`, query: { stream: 'true', starting_after: String(resumes[0]!.after) } });
    expect(server.requests).toHaveLength(2);
    expect(resumes).toEqual([expect.objectContaining({ responseId: responseIdOf(list), resume: 1, failure: 'reset' })]);
  });
});

/** Every failure point of a background stream of 3 deltas (12 events: 0..11, `response.completed` last). */
describe('each failure point', () => {
  it.each([
    ['after response.created, before any output', { dropAfterEvents: 1 }, 'reset'],
    ['at the first delta (after the lifecycle events)', { dropAfterEvents: 5 }, 'reset'],
    ['mid-text', { dropAfter: 2 }, 'reset'],
    ['at the terminal event (cut just before response.completed)', { dropAfterEvents: 11 }, 'reset'],
    ['an error event mid-text (held back, not raised)', { errorAfter: 2 }, 'error_event'],
    ['the stream ends cleanly without its terminal event (its status is looked up first)', { omitDone: true }, 'truncated'],
  ] as const)('%s: the caller gets every event once, in order', async (_name, fault, failure) => {
    const expected = await undisturbed();
    const { server, ai } = await harness();
    const resumes: StreamResumeEvent[] = [];
    ai.resilience.on('streamResume', (event) => resumes.push(event));
    server.enqueue(faults.stream(fault));
    const list: Event[] = [];
    expect(await drain(await ai.responses.create(background), list)).toBeUndefined();
    expect(comparableEvents(list)).toEqual(expected);
    expect(resumes).toEqual([expect.objectContaining({ resume: 1, failure })]);
    const id = responseIdOf(list);
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual(
      ['POST /responses', ...(failure === 'truncated' ? [`GET /responses/${id}`] : []), `GET /responses/${id}`],
    );
  });

  it('a failure before response.created is retried as an attempt (nothing to resume yet)', async () => {
    const { server, clock, ai } = await harness();
    server.enqueue(faults.status(503));
    const list: Event[] = [];
    expect(await drain(await drive(clock, ai.responses.create(background)), list)).toBeUndefined();
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /responses', 'POST /responses']);
    expect(list[0]!.type).toBe('response.created');
  });
});

const RESUMES = /^\/responses\/resp_/;

describe('how a resume ends', () => {
  it('a stall past timeout.idle: the connection is let go and the stream resumed', async () => {
    const expected = await undisturbed();
    const { server, clock, ai } = await harness({ timeout: { idle: 5_000 } });
    const resumes: StreamResumeEvent[] = [];
    ai.resilience.on('streamResume', (event) => resumes.push(event));
    server.enqueue(faults.stream({ stallAfter: 1 }));
    const list: Event[] = [];
    const drained = drain(await ai.responses.create(background), list);
    await until(() => list.some((e) => e.type === 'response.output_text.delta'));
    await clock.advance(5_000);
    expect(await drained).toBeUndefined();
    expect(comparableEvents(list)).toEqual(expected);
    expect(resumes).toEqual([expect.objectContaining({ failure: 'stall' })]);
    await until(() => server.openRequests === 0);
  });

  it('a response cancelled server-side: ResponseCancelledError, carrying what arrived', async () => {
    const { server, ai } = await harness();
    server.enqueue(faults.stream({ background: { outcome: 'cancelled', after: 2 } }));
    const list: Event[] = [];
    const error = await drain(await ai.responses.create(background), list);
    expect(error).toBeInstanceOf(ResponseCancelledError);
    expect(error).toMatchObject({ kind: 'aborted', responseId: responseIdOf(list) });
    expect(partialOutputOf(error)).toMatchObject({ api: 'responses', id: responseIdOf(list), text: 'Hello world' });
    // The status is looked up instead of resuming a stream that will never complete.
    expect(server.requests.map((r) => r.method)).toEqual(['POST', 'GET']);
  });

  it('a response cancelled while its caller reads it (POST /responses/{id}/cancel elsewhere): ResponseCancelledError, no resume', async () => {
    const { server, raw, ai } = await harness();
    server.enqueue(faults.stream({ background: { outcome: 'paused', after: 2 } }));
    const list: Event[] = [];
    const drained = drain(await ai.responses.create(background), list);
    await until(() => list.filter((e) => e.type === 'response.output_text.delta').length === 2);
    await raw.responses.cancel(responseIdOf(list));
    const error = await drained;
    expect(error).toBeInstanceOf(ResponseCancelledError);
    expect(partialOutputOf(error)).toMatchObject({ text: 'Hello world' });
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /responses', `POST /responses/${responseIdOf(list)}/cancel`, `GET /responses/${responseIdOf(list)}`,
    ]);
  });

  it('a response that failed server-side: the resume hands on its response.failed, as an undisturbed stream would', async () => {
    const { server, ai } = await harness();
    const failures: unknown[] = [];
    ai.resilience.on('callEnd', (event) => failures.push(event.error));
    server.enqueue(faults.stream({ dropAfter: 1, background: { outcome: 'failed', after: 2 } }));
    const list: Event[] = [];
    expect(await drain(await ai.responses.create(background), list)).toBeUndefined();
    expect(list.at(-1)).toMatchObject({ type: 'response.failed', response: { status: 'failed', error: { code: 'server_error' } } });
    expect(list.map((e) => e.type).filter((t) => t === 'response.output_text.delta')).toHaveLength(2);
    // As without a resume, the failed response counts as the call's failure.
    expect(failures).toEqual([expect.any(OpenAI.APIError)]);
    expect(server.requests.map((r) => r.method)).toEqual(['POST', 'GET']);
  });

  it('stops at streaming.maxResumes: the last failure ends the stream, carrying every event that arrived', async () => {
    const { server, ai } = await harness({ streaming: { maxResumes: 2 } });
    server.enqueue(faults.stream({ chunks: 6, dropAfter: 1 }));
    server.enqueueFor(RESUMES, faults.stream({ dropAfter: 1 }), faults.stream({ dropAfter: 1 }));
    const list: Event[] = [];
    const error = await drain(await ai.responses.create(background), list);
    expect(error).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(server.requests).toHaveLength(3);
    expect(partialOutputOf(error)).toMatchObject({ text: 'Hello world!', sequenceNumber: list.at(-1)!.sequence_number });
  });

  it('maxResumes: 0 changes nothing: the same error and the same single request as before resuming existed', async () => {
    const { server, ai } = await harness({ streaming: { maxResumes: 0 } });
    server.enqueue(faults.stream({ dropAfter: 2 }));
    const error = await drain(await ai.responses.create(background));
    expect(error).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(partialOutputOf(error)).toMatchObject({ text: 'Hello world' });
    expect(server.requests).toHaveLength(1);
  });

  it('a stream that is not in background mode is never resumed', async () => {
    const { server, ai } = await harness();
    server.enqueue(faults.stream({ dropAfter: 2 }));
    const error = await drain(await ai.responses.create({ ...background, background: false }));
    expect(error).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(server.requests).toHaveLength(1);
  });

  it('streaming.maxResumes is validated', () => {
    const client = new OpenAI({ apiKey: 'sk-test' });
    for (const maxResumes of [-1, 1.5, '3', 10_000]) {
      expect(() => resilient(client, { streaming: { maxResumes: maxResumes as number } })).toThrow(/streaming\.maxResumes/);
    }
  });

  it('responses.retrieve(id, { stream: true, starting_after }) is resumed too, from the last event it delivered', async () => {
    const { server, ai } = await harness();
    const first: Event[] = [];
    expect(await drain(await ai.responses.create(background), first)).toBeUndefined();
    server.enqueueFor(RESUMES, faults.stream({ dropAfter: 1 }));
    const rest: Event[] = [];
    // Read the same response again from the middle, cut once more.
    expect(await drain(await ai.responses.retrieve(responseIdOf(first), { stream: true, starting_after: 5 }), rest)).toBeUndefined();
    expect(rest.map((e) => e.sequence_number)).toEqual([6, 7, 8, 9, 10, 11]);
    expect(server.requests.slice(1).map((r) => r.query['starting_after'])).toEqual(['5', '6']);
  });
});

describe('abort and deadline during a resume', () => {
  it("the caller's abort while the resume waits for its answer ends the stream at once, and nothing is held", async () => {
    const { server, ai } = await harness({ bulkhead: { maxConcurrent: 2 } });
    server.enqueue(faults.stream({ dropAfter: 1 }));
    server.enqueueFor(RESUMES, faults.stall());
    const controller = new AbortController();
    const list: Event[] = [];
    const drained = drain(await ai.responses.create(background, { signal: controller.signal }), list);
    await until(() => server.requests.length === 2);
    controller.abort();
    // The SDK ends a stream its caller aborted quietly.
    expect(await drained).toBeUndefined();
    expect(list.some((e) => e.type === 'response.completed')).toBe(false);
    await until(() => server.openRequests === 0);
    expect(ai.resilience.load()).toEqual({ active: 0, queued: 0 });
  });

  it("the call's deadline cuts a resume that does not answer: the stream ends then with its failure and what arrived", async () => {
    const { server, clock, ai } = await harness({ timeout: { total: 10_000 } });
    server.enqueue(faults.stream({ dropAfter: 2 }));
    server.enqueueFor(RESUMES, faults.stall());
    const list: Event[] = [];
    const drained = drain(await ai.responses.create(background), list);
    await until(() => server.requests.length === 2);
    await clock.advance(10_000);
    const error = await drained;
    expect(error).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(partialOutputOf(error)).toMatchObject({ text: 'Hello world' });
    await until(() => server.openRequests === 0);
    expect(clock.pending()).toEqual([]);
  });

  it('no resume starts once the deadline has passed: a stall then ends the stream as it always did', async () => {
    const { server, clock, ai } = await harness({ timeout: { total: 10_000, idle: 20_000 } });
    server.enqueue(faults.stream({ chunks: 4, stallAfter: 1 }));
    const list: Event[] = [];
    const drained = drain(await ai.responses.create(background), list);
    await until(() => list.some((e) => e.type === 'response.output_text.delta'));
    await clock.advance(20_000);
    expect(await drained).toBeInstanceOf(StreamIdleTimeoutError);
    expect(server.requests).toHaveLength(1);
  });
});

describe('the protecting policies', () => {
  it('a resume counts against the retry budget: none once it is spent (budgetExhausted), and the failure ends the stream', async () => {
    const { server, ai } = await harness({ retry: { budget: { ratio: 0, minRetries: 0 } } });
    const spent: BudgetExhaustedEvent[] = [];
    ai.resilience.on('budgetExhausted', (event) => spent.push(event));
    server.enqueue(faults.stream({ dropAfter: 2 }));
    const error = await drain(await ai.responses.create(background));
    expect(error).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(server.requests).toHaveLength(1);
    expect(spent).toEqual([expect.objectContaining({ kind: 'connection' })]);
  });

  it('the failure is counted by the breaker; the circuit it opens is waited for as a retry waits, and the resume is its probe', async () => {
    // The resume's time limit (timeout.firstChunk) runs from sending, as an attempt's: not while it waits for the probe.
    const { server, clock, ai } = await harness({ circuitBreaker: { consecutiveFailures: 1, halfOpenAfter: 5_000 }, timeout: { firstChunk: 1_000 } });
    server.enqueue(faults.stream({ dropAfter: 2 }));
    const list: Event[] = [];
    const drained = drain(await ai.responses.create(background), list);
    await until(() => ai.resilience.circuits()['gpt-4.1-mini'] === 'open');
    expect(server.requests).toHaveLength(1);
    await clock.advance(5_000);
    expect(await drained).toBeUndefined();
    expect(list.at(-1)!.type).toBe('response.completed');
    expect(server.requests).toHaveLength(2);
    expect(ai.resilience.circuits()['gpt-4.1-mini']).toBe('closed');
  });

  it('a circuit that stays open past the retry patience (retry.maxRetryAfter) refuses the resume: the failure ends the stream', async () => {
    const { server, ai } = await harness({ circuitBreaker: { consecutiveFailures: 1, halfOpenAfter: 120_000 }, retry: { maxRetryAfter: 60_000 } });
    server.enqueue(faults.stream({ dropAfter: 2 }));
    const error = await drain(await ai.responses.create(background));
    expect(error).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(partialOutputOf(error)).toMatchObject({ text: 'Hello world' });
    expect(server.requests).toHaveLength(1);
    expect(ai.resilience.circuits()['gpt-4.1-mini']).toBe('open');
  });

  it('a resume passes the rate limiter (it waits for capacity) and the bulkhead as an attempt does, and gives back all it took', async () => {
    const { server, clock, ai } = await harness({ bulkhead: { maxConcurrent: 1 }, rateLimit: { requestsPerMinute: 1, learn: false } });
    const waits: string[] = [];
    ai.resilience.on('rateLimitWait', (event) => waits.push(event.reason));
    server.enqueue(faults.stream({ dropAfter: 2 }));
    // One request a minute: the create took it, so the resume waits for the next (the bulkhead's one slot
    // was given back by the failed connection, or the resume could never be admitted).
    expect(await drive(clock, drain(await ai.responses.create(background)))).toBeUndefined();
    expect(waits).toEqual(['requests']);
    expect(server.requests).toHaveLength(2);
    await until(() => server.openRequests === 0);
    expect(ai.resilience.load()).toEqual({ active: 0, queued: 0 });
    expect(ai.resilience.stats().models['gpt-4.1-mini']).toMatchObject({ calls: 1, successes: 1 });
  });
});

describe('the cache', () => {
  it('stores a resumed stream whole (when the rule allows background responses), and never one that failed for good', async () => {
    const { server, ai } = await harness({ cache: { cacheable: () => true } });
    server.enqueue(faults.stream({ dropAfter: 2 }));
    const first: Event[] = [];
    expect(await drain(await ai.responses.create(background), first)).toBeUndefined();
    const again: Event[] = [];
    expect(await drain(await ai.responses.create(background), again)).toBeUndefined();
    expect(again).toEqual(first);
    expect(server.requests).toHaveLength(2);

    const other = { ...background, input: 'other' };
    server.enqueue(faults.stream({ dropAfter: 2 }));
    server.enqueueFor(RESUMES, faults.status(404));
    expect(await drain(await ai.responses.create(other))).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(await drain(await ai.responses.create(other))).toBeUndefined();
    expect(server.requestsTo('/responses').filter((r) => r.method === 'POST')).toHaveLength(3);
  });
});

describe('servers that resume differently', () => {
  const created = { type: 'response.created', sequence_number: 0, response: { id: 'resp_h', object: 'response', status: 'in_progress', output: [] } };
  const delta = (n: number, text: string) => ({ type: 'response.output_text.delta', sequence_number: n, item_id: 'msg_h', output_index: 0, content_index: 0, delta: text, logprobs: [] });
  const args = (n: number, text: string) => ({ type: 'response.function_call_arguments.delta', sequence_number: n, item_id: 'fc_h', output_index: 1, delta: text });
  const completed = (n: number) => ({ type: 'response.completed', sequence_number: n, response: { id: 'resp_h', object: 'response', status: 'completed', output: [] } });

  async function client(...answers: Parameters<typeof sseUpstream>) {
    const upstream = await sseUpstream(...answers);
    const ai = resilient(new OpenAI({ apiKey: 'sk-test', baseURL: upstream.url, maxRetries: 0 }), quietOptions(new FakeClock(1_700_000_000_000), { retry: false }));
    return { ai, upstream };
  }

  it('one that replays the whole stream (ignoring starting_after), cut mid-tool-call: nothing is handed on twice', async () => {
    const whole = [created, delta(1, 'Hi'), args(2, '{"city":'), args(3, '"Paris"}'), completed(4)];
    const { ai, upstream } = await client({ frames: whole.slice(0, 3), end: 'drop' }, { frames: whole, end: 'end' });
    const list: Event[] = [];
    expect(await drain(await ai.responses.create(background), list)).toBeUndefined();
    expect(list.map((e) => e.sequence_number)).toEqual([0, 1, 2, 3, 4]);
    expect(upstream.requests()).toBe(2);
  });

  it('one whose resume skips events: MalformedResponseError, never a stream with a hole', async () => {
    const { ai } = await client({ frames: [created, delta(1, 'Hi')], end: 'drop' }, { frames: [delta(3, '!'), completed(4)], end: 'end' });
    const list: Event[] = [];
    const error = await drain(await ai.responses.create(background), list);
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(list.map((e) => e.sequence_number)).toEqual([0, 1]);
    expect(partialOutputOf(error)).toMatchObject({ text: 'Hi' });
  });

  it('one that cuts the stream in the middle of an event: the half event is never handed on, and the resume completes it', async () => {
    const half = { raw: `event: response.output_text.delta\ndata: {"type":"response.output_text.delta","sequence_number":2,"del` };
    const { ai } = await client({ frames: [created, delta(1, 'Hi'), half], end: 'drop' }, { frames: [delta(2, ' there'), completed(3)], end: 'end' });
    const list: Event[] = [];
    expect(await drain(await ai.responses.create(background), list)).toBeUndefined();
    expect(list.map((e) => e.sequence_number)).toEqual([0, 1, 2, 3]);
  });
});
