import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { faults } from '../../src/testing/index.js';
import { type StreamResumeEvent } from '../../src/index.js';
import { harness } from '../support/harness.js';

type Event = OpenAI.Responses.ResponseStreamEvent;
const background = { model: 'gpt-4.1-mini', input: 'hi', background: true, stream: true as const };

/** Iterates `stream` into `into`; the error it ends with, or undefined. */
async function drain(stream: AsyncIterable<Event>, into: Event[] = []): Promise<unknown> {
  try {
    for await (const event of stream) into.push(event);
    return undefined;
  } catch (error) {
    return error;
  }
}

const idOf = (list: Event[]): string => (list[0] as OpenAI.Responses.ResponseCreatedEvent).response.id;
/** Events of different responses made comparable: ids and creation times replaced. */
const comparable = (list: Event[]): string[] => {
  const id = idOf(list);
  return list.map((e) =>
    JSON.stringify(e, (k, v: unknown) => (k === 'created_at' ? 0 : v))
      .replaceAll(id, 'resp_X')
      .replaceAll(id.replace('resp_', 'msg_'), 'msg_X'),
  );
};

/** The events of an undisturbed background stream of `chunks` deltas. */
async function undisturbed(chunks = 3): Promise<string[]> {
  const { server, ai } = await harness();
  if (chunks !== 3) server.enqueue(faults.stream({ chunks }));
  const list: Event[] = [];
  expect(await drain(await ai.responses.create(background), list)).toBeUndefined();
  return comparable(list);
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
    expect(comparable(list)).toEqual(expected);
    expect(list.map((e) => e.sequence_number)).toEqual(list.map((_, i) => i));
    const resume = server.requests[1]!;
    expect(resume).toMatchObject({ method: 'GET', path: `/responses/${idOf(list)}`, query: { stream: 'true', starting_after: String(resumes[0]!.after) } });
    expect(server.requests).toHaveLength(2);
    expect(resumes).toEqual([expect.objectContaining({ responseId: idOf(list), resume: 1, failure: 'reset' })]);
  });
});
