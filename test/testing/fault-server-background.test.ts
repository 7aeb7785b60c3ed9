import { describe, it, expect, beforeAll, afterAll, beforeEach } from 'vitest';
import OpenAI from 'openai';
import { createFaultFetch, faults, startFaultServer, type BackgroundOptions, type FaultServer } from '../../src/testing/index.js';
import { until } from '../support/harness.js';
import { comparableEvents, drain, responseIdOf } from '../support/stream-drain.js';

type Event = OpenAI.Responses.ResponseStreamEvent;

let server: FaultServer;
let client: OpenAI;

const create = (signal?: AbortSignal, c: OpenAI = client) =>
  c.responses.create({ model: 'gpt-4o', input: 'hi', background: true, stream: true, store: true }, signal ? { signal } : {});
const resume = (id: string, startingAfter?: number, c: OpenAI = client) =>
  c.responses.retrieve(id, startingAfter === undefined ? { stream: true } : { stream: true, starting_after: startingAfter });
const caught = (p: Promise<unknown>): Promise<unknown> => p.then(() => expect.unreachable('expected a rejection'), (e: unknown) => e);

async function events(stream: AsyncIterable<Event>): Promise<Event[]> {
  const into: Event[] = [];
  expect(await drain(stream, into)).toBeUndefined();
  return into;
}

const last = (list: Event[]): number => list.at(-1)!.sequence_number;
const textOf = (list: Event[]): string =>
  list.map((e) => (e.type === 'response.output_text.delta' ? e.delta : '')).join('');

beforeAll(async () => {
  server = await startFaultServer();
  client = new OpenAI({ apiKey: 'sk-test', baseURL: server.url, maxRetries: 0 });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

describe('creating a background stream', () => {
  it('streams every event with a sequence number from 0, queued -> in_progress -> completed', async () => {
    const list = await events(await create());
    expect(list.map((e) => e.type)).toEqual([
      'response.created',
      'response.queued',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(list.map((e) => e.sequence_number)).toEqual(list.map((_, i) => i));
    const created = list[0] as OpenAI.Responses.ResponseCreatedEvent;
    expect(created.response).toMatchObject({ status: 'queued', background: true, store: true });
    expect((list[2] as OpenAI.Responses.ResponseInProgressEvent).response.status).toBe('in_progress');
    expect((list.at(-1) as OpenAI.Responses.ResponseCompletedEvent).response).toMatchObject({ id: created.response.id, status: 'completed', background: true });
    expect(textOf(list)).toBe('Hello world!');

    const stored = await client.responses.retrieve(created.response.id);
    expect(stored).toMatchObject({ id: created.response.id, object: 'response', status: 'completed', background: true });
    expect(stored.output_text).toBe('Hello world!');
  });

  it('is deterministic: a replay is identical, another response differs only by id and time', async () => {
    const first = await events(await create());
    const replay = await events(await resume(responseIdOf(first)));
    expect(replay).toEqual(first);
    const other = await events(await create());
    expect(responseIdOf(other)).not.toBe(responseIdOf(first));
    expect(comparableEvents(other)).toEqual(comparableEvents(first));
  });

  it('takes the chunk count of faults.stream()', async () => {
    server.enqueue(faults.stream({ chunks: 5 }));
    const list = await events(await create());
    expect(textOf(list)).toBe('Hello world! more more');
    expect(last(list)).toBe(13);
    expect((await client.responses.retrieve(responseIdOf(list))).output_text).toBe('Hello world! more more');
  });

  it('rejects store: false with a 400 on `store`, and accepts store left out (it defaults to true)', async () => {
    const error = await caught(client.responses.create({ model: 'gpt-4o', input: 'hi', background: true, stream: true, store: false }));
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ status: 400, param: 'store', type: 'invalid_request_error' });
    const list = await events(await client.responses.create({ model: 'gpt-4o', input: 'hi', background: true, stream: true }));
    expect(list.at(-1)?.type).toBe('response.completed');
  });

  it('without stream: answers the response queued; GET shows it completed; it cannot be streamed', async () => {
    const response = await client.responses.create({ model: 'gpt-4o', input: 'hi', background: true });
    expect(response).toMatchObject({ status: 'queued', background: true, output: [] });
    const { data: stored, response: http } = await client.responses.retrieve(response.id).withResponse();
    expect(stored).toMatchObject({ status: 'completed', output_text: 'Hello world!' });
    expect(http.headers.get('x-ratelimit-remaining-requests')).toBe('499');
    const error = await caught(resume(response.id));
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ status: 400, param: 'stream' });
  });
});

describe('resuming', () => {
  it('after a cut: the resumed events are exactly the missing ones', async () => {
    const full = await events(await create());
    server.enqueue(faults.stream({ dropAfter: 1 }));
    const got: Event[] = [];
    expect(await drain(await create(), got)).toMatchObject({ message: 'terminated' });
    expect(got.map((e) => e.sequence_number)).toEqual([0, 1, 2, 3, 4, 5]);
    const rest = await events(await resume(responseIdOf(got), last(got)));
    expect(rest[0]?.sequence_number).toBe(6);
    expect(comparableEvents([...got, ...rest])).toEqual(comparableEvents(full));
    expect(await events(await resume(responseIdOf(got)))).toEqual([...got, ...rest]);
    expect(server.requestsTo(`/responses/${responseIdOf(got)}`)[0]?.query).toEqual({ stream: 'true', starting_after: '5' });
  });

  it('at every point of the stream: before the first content chunk, mid-text, at the terminal event', async () => {
    const full = await events(await create());
    for (let cut = 0; cut < full.length - 1; cut++) {
      const got: Event[] = [];
      for await (const event of await create()) {
        got.push(event);
        if (event.sequence_number === cut) break; // the client leaves (aborts) here
      }
      const rest = await events(await resume(responseIdOf(got), last(got)));
      expect(comparableEvents([...got, ...rest])).toEqual(comparableEvents(full));
    }
  });

  it('after a stall: the client gives up, the resume delivers the rest', async () => {
    server.enqueue(faults.stream({ stallAfter: 2 }));
    const controller = new AbortController();
    const got: Event[] = [];
    const done = drain(await create(controller.signal), got);
    await until(() => got.length === 7); // the preamble and 2 deltas, then silence
    controller.abort();
    expect(await done).toBeUndefined(); // an abort ends the SDK's iteration quietly
    const rest = await events(await resume(responseIdOf(got), last(got)));
    expect(rest.map((e) => e.sequence_number)).toEqual([7, 8, 9, 10, 11]);
    expect(textOf([...got, ...rest])).toBe('Hello world!');
  });

  it('a resume disturbed in turn (cut after one more chunk), then resumed again', async () => {
    server.enqueue(faults.stream({ dropAfter: 0 }));
    const got: Event[] = [];
    expect(await drain(await create(), got)).toMatchObject({ message: 'terminated' });
    expect(last(got)).toBe(4);
    const id = responseIdOf(got);
    server.enqueueFor(`/responses/${id}`, faults.stream({ dropAfter: 1 }));
    const second: Event[] = [];
    expect(await drain(await resume(id, last(got)), second)).toMatchObject({ message: 'terminated' });
    expect(second.map((e) => e.sequence_number)).toEqual([5]);
    const third = await events(await resume(id, last(second)));
    expect([...got, ...second, ...third]).toEqual(await events(await resume(id)));
  });

  it('an in-band error repeats the last sequence number, so resuming after it misses nothing', async () => {
    server.enqueue(faults.stream({ errorAfter: 2, error: { code: 'server_error', message: 'boom' } }));
    const got: Event[] = [];
    const error = await drain(await create(), got);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(error).toMatchObject({ message: 'boom' });
    expect(last(got)).toBe(6);
    const rest = await events(await resume(responseIdOf(got), 6));
    expect([...got, ...rest]).toEqual(await events(await resume(responseIdOf(got))));
  });

  it('cut between any two events: just before response.completed, the resume sends it alone', async () => {
    server.enqueue(faults.stream({ dropAfterEvents: 11 }));
    const got: Event[] = [];
    expect(await drain(await create(), got)).toMatchObject({ message: 'terminated' });
    expect(got.at(-1)?.type).toBe('response.output_item.done');
    expect((await events(await resume(responseIdOf(got), last(got)))).map((e) => e.type)).toEqual(['response.completed']);
    server.enqueueFor(/^\/responses\/resp_/, faults.stream({ stallAfterEvents: 1 }));
    const controller = new AbortController();
    const one: Event[] = [];
    const done = drain(await client.responses.retrieve(responseIdOf(got), { stream: true, starting_after: 2 }, { signal: controller.signal }), one);
    await until(() => one.length === 1);
    controller.abort();
    expect(await done).toBeUndefined();
    expect(one.map((e) => e.sequence_number)).toEqual([3]);
  });

  it('errorAfterEvents in the tail: the error repeats the last sequence number sent', async () => {
    server.enqueue(faults.stream({ errorAfterEvents: 9 }));
    const body = JSON.stringify({ model: 'gpt-4o', input: 'hi', background: true, stream: true });
    const raw = await (await fetch(`${server.url}/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).text();
    const frames = raw.trim().split('\n\n').map((f) => JSON.parse(f.split('data: ')[1]!) as { type: string; sequence_number: number });
    expect(frames.map((f) => f.sequence_number)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 8]);
    expect(frames.at(-1)?.type).toBe('error');
  });

  it('a 5xx on a resume leaves the response resumable', async () => {
    const got = await events(await create());
    server.enqueueFor(/^\/responses\/resp_/, faults.serverError(502));
    expect(await caught(resume(responseIdOf(got), 3))).toBeInstanceOf(OpenAI.InternalServerError);
    expect((await events(await resume(responseIdOf(got), 3))).map((e) => e.sequence_number)).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('starting after the last event: an empty stream; a bad starting_after: a 400', async () => {
    const got = await events(await create());
    expect(await events(await resume(responseIdOf(got), last(got)))).toEqual([]);
    const response = await fetch(`${server.url}/responses/${responseIdOf(got)}?stream=true&starting_after=x`, { headers: { authorization: 'Bearer k' } });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { param: 'starting_after', type: 'invalid_request_error' } });
  });

  it("through the SDK's responses.stream({ response_id, starting_after }) helper", async () => {
    const got = await events(await create());
    const runner = client.responses.stream({ response_id: responseIdOf(got), starting_after: 6 });
    const seen: number[] = [];
    for await (const event of runner) seen.push(event.sequence_number);
    expect(seen).toEqual([7, 8, 9, 10, 11]);
    expect((await runner.finalResponse()).output_text).toBe('Hello world!');
  });
});

describe('unknown ids', () => {
  it('404 on GET, on a stream and on cancel, with the API message', async () => {
    for (const call of [client.responses.retrieve('resp_nope'), resume('resp_nope', 3), client.responses.cancel('resp_nope')]) {
      const error = await caught(call);
      expect(error).toBeInstanceOf(OpenAI.NotFoundError);
      expect(error).toMatchObject({ status: 404, message: "404 Response with id 'resp_nope' not found." });
    }
  });
});

describe('server-side endings and cancel', () => {
  it('failed: response.failed after the chunks generated, status failed with its error', async () => {
    const background: BackgroundOptions = { outcome: 'failed', after: 2, error: { code: 'rate_limit_exceeded', message: 'slow down' } };
    server.enqueue(faults.stream({ background }));
    const list = await events(await create());
    expect(list.map((e) => e.type).slice(-3)).toEqual(['response.output_text.delta', 'response.output_text.delta', 'response.failed']);
    const failed = list.at(-1) as OpenAI.Responses.ResponseFailedEvent;
    expect(failed.response).toMatchObject({ status: 'failed', error: { code: 'rate_limit_exceeded', message: 'slow down' } });
    expect(await client.responses.retrieve(responseIdOf(list))).toMatchObject({ status: 'failed', error: { code: 'rate_limit_exceeded' } });
    expect(await events(await resume(responseIdOf(list), 5))).toEqual(list.slice(6));
  });

  it('cancelled server-side: streams end after the chunks generated, with no terminal event', async () => {
    server.enqueue(faults.stream({ background: { outcome: 'cancelled', after: 1 } }));
    const list = await events(await create());
    expect(list.map((e) => e.type).at(-1)).toBe('response.output_text.delta');
    expect(last(list)).toBe(5);
    expect(await client.responses.retrieve(responseIdOf(list))).toMatchObject({ status: 'cancelled', usage: null });
    expect(await events(await resume(responseIdOf(list), 2))).toEqual(list.slice(3));
  });

  it('paused, then cancelled by the client: the open stream ends, later resumes end there too', async () => {
    server.enqueue(faults.stream({ background: { outcome: 'paused', after: 1 } }));
    const got: Event[] = [];
    const stream = await create();
    let cancelled: OpenAI.Responses.Response | undefined;
    for await (const event of stream) {
      got.push(event);
      if (event.type === 'response.output_text.delta') {
        expect(await client.responses.retrieve(responseIdOf(got))).toMatchObject({ status: 'in_progress' });
        cancelled = await client.responses.cancel(responseIdOf(got)); // the stream then ends
      }
    }
    expect(cancelled).toMatchObject({ id: responseIdOf(got), status: 'cancelled' });
    expect(last(got)).toBe(5);
    expect(await client.responses.retrieve(responseIdOf(got))).toMatchObject({ status: 'cancelled' });
    expect(await events(await resume(responseIdOf(got)))).toEqual(got);
    expect(await events(await resume(responseIdOf(got), 5))).toEqual([]);
    expect(await client.responses.cancel(responseIdOf(got))).toEqual(cancelled); // idempotent
    await until(() => server.openRequests === 0);
  });

  it('a resume of a paused response waits with it, and ends when it is cancelled', async () => {
    server.enqueue(faults.stream({ background: { outcome: 'paused', after: 2 } }));
    const controller = new AbortController();
    const got: Event[] = [];
    for await (const event of await create(controller.signal)) {
      got.push(event);
      if (event.sequence_number === 6) controller.abort(); // the client leaves while generation waits
    }
    const resumed: Event[] = [];
    const done = drain(await resume(responseIdOf(got), 4), resumed);
    await until(() => resumed.length === 2);
    await client.responses.cancel(responseIdOf(got));
    expect(await done).toBeUndefined();
    expect(resumed.map((e) => e.sequence_number)).toEqual([5, 6]);
  });

  it('cancelling a completed response is a 400', async () => {
    const list = await events(await create());
    const error = await caught(client.responses.cancel(responseIdOf(list)));
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(await client.responses.retrieve(responseIdOf(list))).toMatchObject({ status: 'completed' });
  });
});

describe('the fault fetch', () => {
  it('serves the same background responses: cut, resume, cancel', async () => {
    const faultFetch = createFaultFetch();
    const c = new OpenAI({ apiKey: 'sk-test', baseURL: 'https://api.openai.test/v1', fetch: faultFetch.fetch, maxRetries: 0 });
    try {
      const full = await events(await create(undefined, c));
      faultFetch.enqueue(faults.stream({ dropAfter: 2 }));
      const got: Event[] = [];
      expect(await drain(await create(undefined, c), got)).toMatchObject({ message: 'terminated' });
      const rest = await events(await resume(responseIdOf(got), last(got), c));
      expect(comparableEvents([...got, ...rest])).toEqual(comparableEvents(full));

      faultFetch.enqueue(faults.stream({ background: { outcome: 'paused' } }));
      const paused: Event[] = [];
      const done = drain(await create(undefined, c), paused);
      await until(() => paused.length === 5);
      expect(await c.responses.cancel(responseIdOf(paused))).toMatchObject({ status: 'cancelled' });
      expect(await done).toBeUndefined();
      expect(faultFetch.openRequests).toBe(0);
      expect(await caught(c.responses.retrieve('resp_nope'))).toBeInstanceOf(OpenAI.NotFoundError);
    } finally {
      await faultFetch.close();
    }
  });
});
