import { describe, expect, it } from 'vitest';
import { faults } from '../../src/testing/index.js';
import { drivePool, memberPool, modelsSent, type MemberPool } from '../support/pool-members.js';

const model = 'gpt-4.1-mini';
const storedResponse = (id: string) => ({ id, object: 'response', status: 'completed', model, output: [] });

/** Creates a stored response on member `index` (the others are full), answered with id `id`. */
async function createOn(pool: MemberPool, index: number, id: string): Promise<void> {
  pool.servers[index]!.enqueueFor('/responses', faults.ok(storedResponse(id)));
  for (let i = 0; i < pool.servers.length; i++) if (i !== index) pool.servers[i]!.enqueueFor('/responses', faults.serverError(500));
  // Ordered from the member: the others would fail over to it anyway; the answer comes from `index` alone.
  const created = await drivePool(pool.clock, pool.ai.responses.create({ model, input: 'hi' }));
  expect(created.id).toBe(id);
  for (const server of pool.servers) server.reset();
}

describe('pool: stored responses stay with the member that holds them', () => {
  it('a call with previous_response_id goes to the member that created that response, every time', async () => {
    const pool = await memberPool([{}, {}, {}]);
    await createOn(pool, 2, 'resp_on_m2');
    for (let i = 0; i < 6; i++) {
      await drivePool(pool.clock, pool.ai.responses.create({ model, input: 'and then?', previous_response_id: 'resp_on_m2' }));
    }
    expect(pool.received('/responses')).toEqual([0, 0, 6]);
    // Other calls are spread as usual.
    for (let i = 0; i < 6; i++) await drivePool(pool.clock, pool.ai.responses.create({ model, input: 'new' }));
    expect(pool.received('/responses').slice(0, 2).reduce((a, b) => a + b)).toBeGreaterThan(0);
  });

  it('retrieve, cancel and input items of a stored response go to its member, not to the first', async () => {
    const pool = await memberPool([{}, {}]);
    await createOn(pool, 1, 'resp_on_m1');
    pool.servers[1]!.enqueueFor('/responses/resp_on_m1', faults.ok(storedResponse('resp_on_m1')));
    const retrieved = await pool.ai.responses.retrieve('resp_on_m1');
    expect(retrieved.id).toBe('resp_on_m1');
    pool.servers[1]!.enqueueFor('/responses/resp_on_m1/cancel', faults.ok(storedResponse('resp_on_m1')));
    await pool.ai.responses.cancel('resp_on_m1');
    expect(pool.received('/responses/resp_on_m1')).toEqual([0, 1]);
    expect(pool.received('/responses/resp_on_m1/cancel')).toEqual([0, 1]);
  });

  it('a call pinned to its member does not fail over to members that cannot hold its response', async () => {
    const pool = await memberPool([{}, {}], { retry: { maxRetries: 2 } });
    await createOn(pool, 0, 'resp_on_m0');
    pool.servers[0]!.enqueue(faults.serverError(500));
    await drivePool(pool.clock, pool.ai.responses.create({ model, input: 'more', previous_response_id: 'resp_on_m0' }));
    // The retry went back to m0 (after its backoff), not to m1, which would answer 404.
    expect(pool.received('/responses')).toEqual([2, 0]);
  });

  it('a response nobody remembers is routed like any call', async () => {
    const pool = await memberPool([{}, {}], { pool: { routing: 'ordered' } });
    pool.servers[0]!.enqueueFor('/responses/resp_unknown', faults.ok(storedResponse('resp_unknown')));
    await pool.ai.responses.retrieve('resp_unknown');
    expect(pool.received('/responses/resp_unknown')).toEqual([1, 0]);
  });
});

describe('pool: a streamed response stays with its member too', () => {
  it('remembers the id of the stream\'s response.created', async () => {
    const pool = await memberPool([{}, {}], { pool: { routing: 'ordered' } });
    // m0 fails the create: the stream comes from m1.
    pool.servers[0]!.enqueueFor('/responses', faults.serverError(500));
    let id: string | undefined;
    for await (const event of await drivePool(pool.clock, pool.ai.responses.create({ model, input: 'hi', stream: true }))) {
      if (event.type === 'response.created') id = event.response.id;
    }
    expect(id).toMatch(/^resp_/);
    for (const server of pool.servers) server.reset();
    // Ordered routing would send these to m0: the response's member takes them.
    for (let i = 0; i < 3; i++) await drivePool(pool.clock, pool.ai.responses.create({ model, input: 'more', previous_response_id: id! }));
    expect(pool.received('/responses')).toEqual([0, 3]);
  });
});

describe('pool: a response in a conversation goes to the member that holds conversations', () => {
  it('conversations are created on the first member (they have no model), and their responses go there', async () => {
    const pool = await memberPool([{}, {}, {}]);
    pool.servers[0]!.enqueueFor('/conversations', faults.ok({ id: 'conv_1', object: 'conversation', created_at: 0, metadata: {} }));
    const conversation = await pool.ai.conversations.create();
    expect(pool.received('/conversations')).toEqual([1, 0, 0]);
    for (let i = 0; i < 6; i++) {
      await drivePool(pool.clock, pool.ai.responses.create({ model, input: 'hi', conversation: conversation.id }));
    }
    expect(pool.received('/responses')).toEqual([6, 0, 0]);
  });
});

describe('pool: a background stream is resumed on its member', () => {
  it('a cut background stream resumes on the member that streams it, although routing would pick another', async () => {
    const pool = await memberPool([{}, {}], { pool: { routing: 'ordered' } });
    // m0 fails the create: the stream comes from m1, and is cut there.
    pool.servers[0]!.enqueueFor('/responses', faults.serverError(500));
    pool.servers[1]!.enqueueFor('/responses', faults.stream({ dropAfter: 1 }));
    const types: string[] = [];
    for await (const event of await drivePool(pool.clock, pool.ai.responses.create({ model, input: 'hi', stream: true, background: true }))) {
      types.push(event.type);
    }
    expect(types.at(-1)).toBe('response.completed');
    expect(pool.servers.map((server) => server.requests.filter((r) => r.method === 'GET').length)).toEqual([0, 1]);
  });
});

describe('pool: a chat stream is continued on its member', () => {
  it('a cut chat stream is continued by the member that streamed it (its own model name), although routing would pick another', async () => {
    const pool = await memberPool([{}, { models: { [model]: 'm1-model' } }], { pool: { routing: 'ordered' }, streaming: { continuation: 'prefix' } });
    // m0 fails the call: the stream comes from m1, and is cut there.
    pool.servers[0]!.enqueueFor('/chat/completions', faults.serverError(500));
    pool.servers[1]!.enqueueFor('/chat/completions', faults.stream({ chunks: 6, words: 'numbered', dropAfter: 2 }), faults.stream({ chunks: 6, words: 'numbered' }));
    let text = '';
    const stream = await drivePool(pool.clock, pool.ai.chat.completions.create({ model, messages: [{ role: 'user', content: 'count' }], stream: true }));
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('w1 w2 w3 w4 w5 w6');
    expect(pool.received()).toEqual([1, 2]);
    expect(modelsSent(pool.servers[1]!)).toEqual(['m1-model', 'm1-model']);
  });
});
