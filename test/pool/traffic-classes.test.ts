import { describe, expect, it } from 'vitest';
import { faults } from '../../src/testing/index.js';
import { resilient } from '../../src/index.js';
import OpenAI from 'openai';
import { chatParams, rejectionOf, until } from '../support/harness.js';
import { answerGate, memberPool, type MemberPool } from '../support/pool-members.js';

/** A marker for the room waits' patience (`retry.maxRetryAfter`): their timers are found by it. */
const PATIENCE = 45_000;

const params = (content: string) => ({ ...chatParams, messages: [{ role: 'user' as const, content }] });
const messagesSent = (h: MemberPool): string[] =>
  h.servers.flatMap((server) => server.requestsTo('/chat/completions').map((request) => (request.body as { messages: Array<{ content: string }> }).messages[0]!.content));

/** Starts a call of `trafficClass` on the pool, named by its message. */
function call(h: MemberPool, trafficClass: 'interactive' | 'default' | 'background', name: string) {
  return h.ai.resilience.forClass(trafficClass).chat.completions.create(params(name));
}

/** One member with room for one call at a time; its answers held while the gate is shut. */
async function fullMember(lowerClassEvery?: number) {
  const gate = answerGate();
  const h = await memberPool([{ fetch: gate.fetch, maxConcurrent: 1 }], {
    retry: { maxRetryAfter: PATIENCE },
    ...(lowerClassEvery === undefined ? {} : { pool: { lowerClassEvery } }),
  });
  gate.shut();
  const held = call(h, 'default', 'held');
  await until(() => h.received()[0] === 1);
  /** Resolves once `count` calls wait for room. */
  const waiting = (count: number) => h.clock.until((timers) => timers.filter((timer) => timer.delay === PATIENCE).length === count);
  return { h, gate, held, waiting };
}

describe('pool: calls waiting for a member go highest traffic class first', () => {
  it('when every member is full, the room that frees up goes to the highest class waiting, in arrival order within a class', async () => {
    const { h, gate, held, waiting } = await fullMember();
    const calls = [call(h, 'background', 'b0'), call(h, 'background', 'b1'), call(h, 'default', 'd0'), call(h, 'interactive', 'i0'), call(h, 'interactive', 'i1')];
    await waiting(5);
    gate.open();
    await Promise.all([held, ...calls]);
    expect(messagesSent(h)).toEqual(['held', 'i0', 'i1', 'd0', 'b0', 'b1']);
    expect(h.clock.pending()).toEqual([]);
  });

  it('anti-starvation (pool.lowerClassEvery): while higher classes keep taking the room, every Nth time a lower class goes', async () => {
    const { h, gate, held, waiting } = await fullMember(2);
    const calls = [call(h, 'background', 'b0'), call(h, 'background', 'b1')];
    for (let index = 0; index < 4; index++) calls.push(call(h, 'interactive', `i${index}`));
    await waiting(6);
    gate.open();
    await Promise.all([held, ...calls]);
    expect(messagesSent(h)).toEqual(['held', 'i0', 'b0', 'i1', 'b1', 'i2', 'i3']);
  });

  it('when a paused member is ready again, the highest class waiting for it goes first', async () => {
    const h = await memberPool([{ maxConcurrent: 1 }], { rateLimit: { learn: false }, retry: { maxRetries: 0, maxRetryAfter: PATIENCE } });
    h.servers[0]!.enqueue(faults.rateLimited({ retryAfterMs: 8_000, noRetryHeaders: true }));
    await rejectionOf(call(h, 'default', 'paused'));
    const calls = [call(h, 'background', 'b0'), call(h, 'interactive', 'i0')];
    await h.clock.until((timers) => timers.filter((timer) => timer.delay === 8_000).length === 2);
    await h.clock.advance(8_000);
    await Promise.all(calls);
    expect(messagesSent(h)).toEqual(['paused', 'i0', 'b0']);
    expect(h.clock.pending()).toEqual([]);
  });

  it('rejects an invalid pool.lowerClassEvery with a TypeError naming it', () => {
    const client = new OpenAI({ apiKey: 'k' });
    expect(() => resilient([client], { pool: { lowerClassEvery: 2 } })).not.toThrow();
    for (const value of [1, 2.5, '10', 2_000_000]) {
      expect(() => resilient([client], { pool: { lowerClassEvery: value as never } })).toThrow(TypeError);
      expect(() => resilient([client], { pool: { lowerClassEvery: value as never } })).toThrow(/`pool.lowerClassEvery`/);
    }
  });
});
