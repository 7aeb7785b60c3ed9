import type OpenAI from 'openai';

/** Iterates `stream` into `into`; resolves with the error it ended with, or `undefined` when it ended well. */
export async function drain<T>(stream: AsyncIterable<T>, into: T[] = []): Promise<unknown> {
  try {
    for await (const item of stream) into.push(item);
    return undefined;
  } catch (error) {
    return error;
  }
}

type ResponseEvent = OpenAI.Responses.ResponseStreamEvent;

/** The id of a background stream's response, from its first event (`response.created`). */
export const responseIdOf = (list: ResponseEvent[]): string => (list[0] as OpenAI.Responses.ResponseCreatedEvent).response.id;

/** The events of a response made comparable with another response's: ids and creation times replaced. */
export function comparableEvents(list: ResponseEvent[]): string[] {
  const id = responseIdOf(list);
  return list.map((e) =>
    JSON.stringify(e, (k, v: unknown) => (k === 'created_at' ? 0 : v))
      .replaceAll(id, 'resp_X')
      .replaceAll(id.replace('resp_', 'msg_'), 'msg_X'),
  );
}
