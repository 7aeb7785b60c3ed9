import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import type { ResilientClient } from '../../../src/index.js';
import { faults } from '../../../src/testing/index.js';
import { chatParams, harness, rejectionOf } from '../../support/harness.js';

const PAUSE = 1_000;
/** A call through the view of the class its message starts with (`interactive ...`, else `background`). */
const call = (ai: ResilientClient<OpenAI>, content: string) =>
  ai.resilience.forClass(content.startsWith('interactive') ? 'interactive' : 'background').chat.completions.create({ ...chatParams, messages: [{ role: 'user', content }] });
const messageOf = (body: unknown): string => (body as { messages: Array<{ content: string }> }).messages[0]!.content;

describe('calls waiting for an open circuit, by traffic class', () => {
  it('the highest class waiting is the probe, though it came last; the others go after its success', async () => {
    const { server, clock, ai } = await harness({ retry: { maxRetries: 0 }, circuitBreaker: { consecutiveFailures: 3, halfOpenAfter: PAUSE } });
    server.enqueue(faults.serverError(500), faults.serverError(500), faults.serverError(500));
    for (let i = 0; i < 3; i++) await rejectionOf(call(ai, `background failing ${i}`));
    const openedAt = clock.now();
    const calls = [call(ai, 'background 0'), call(ai, 'background 1'), call(ai, 'interactive')];
    await clock.until((timers) => timers.some((timer) => timer.at === openedAt + PAUSE));
    await clock.advance(PAUSE);
    const completions = await Promise.all(calls);
    expect(completions.map((completion) => completion.object)).toEqual(Array(3).fill('chat.completion'));
    // The fourth request was the probe: the interactive call, though it came last.
    const after = server.requests.slice(3).map((request) => messageOf(request.body));
    expect(after[0]).toBe('interactive');
    expect(after.slice(1).sort()).toEqual(['background 0', 'background 1']);
  });
});
