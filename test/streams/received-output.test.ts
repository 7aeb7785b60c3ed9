import { describe, expect, it } from 'vitest';
import { HELD_EVENTS_LIMIT, ReceivedOutput } from '../../src/streams/received-output.js';

const chat = (content: string) => ({ name: undefined, data: JSON.stringify({ id: 'chatcmpl-1', choices: [{ index: 0, delta: { content } }] }) });
const responses = (event: Record<string, unknown>) => ({ name: event['type'] as string, data: JSON.stringify(event) });

describe('ReceivedOutput', () => {
  it('keeps only chat chunks and Responses events: not the events of other streams', () => {
    const received = new ReceivedOutput();
    received.add({ name: 'image_generation.partial_image', data: '{"type":"image_generation.partial_image","b64_json":"..."}' });
    received.add({ name: 'thread.message.delta', data: '{"id":"msg_1"}' });
    expect(received.keep(2)()).toBeUndefined();
  });

  it('freezes what a failure carries: events after it are not part of it', () => {
    const received = new ReceivedOutput();
    received.add(chat('Hello'));
    const assemble = received.keep(1);
    received.add(chat(' after'));
    received.usage({ total_tokens: 3 });
    expect(assemble()).toMatchObject({ text: 'Hello', usage: undefined, chunks: 1 });
  });

  it('lets go of what it received when the stream ends with nothing carrying it, not when a failure does', () => {
    const released = new ReceivedOutput();
    released.add(chat('Hello'));
    released.release();
    expect(released.keep(1)()).toBeUndefined();

    const kept = new ReceivedOutput();
    kept.add(chat('Hello'));
    const assemble = kept.keep(1);
    kept.release();
    expect(assemble()?.text).toBe('Hello');
  });

  it('assembles its events into the output once they add up to HELD_EVENTS_LIMIT, and goes on from there', () => {
    const received = new ReceivedOutput();
    const piece = 'x'.repeat(1_000);
    const count = Math.ceil((HELD_EVENTS_LIMIT * 2.5) / piece.length);
    for (let i = 0; i < count; i++) received.add(chat(piece));
    expect(received.keep(count)()?.text).toBe(piece.repeat(count));
  });

  it('a Responses function call whose item is done as incomplete (cut by max_output_tokens) is not complete', () => {
    const received = new ReceivedOutput();
    const item = { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'weather', arguments: '' };
    received.add(responses({ type: 'response.output_item.added', sequence_number: 1, output_index: 0, item }));
    received.add(responses({ type: 'response.function_call_arguments.delta', sequence_number: 2, output_index: 0, delta: '{"ci' }));
    received.add(responses({ type: 'response.output_item.done', sequence_number: 3, output_index: 0, item: { ...item, arguments: '{"ci', status: 'incomplete' } }));
    expect(received.keep(3)()).toMatchObject({ api: 'responses', sequenceNumber: 3, toolCalls: [{ id: 'call_1', arguments: '{"ci', complete: false }] });
  });
});
