import { getEventListeners } from 'node:events';
import OpenAI from 'openai';
import { describe, expect, it, vi } from 'vitest';
import { faults } from '../../src/testing/index.js';
import { systemClock, type GiveUpEvent, type RetryEvent } from '../../src/index.js';
import { chatParams, drive, harness, rejectionOf, until } from '../support/harness.js';

describe('caller abort', () => {
  it('leaves no listener on a long-lived caller signal after calls succeed', async () => {
    const { clock, ai } = await harness();
    const controller = new AbortController();
    for (let i = 0; i < 3; i++) await drive(clock, ai.chat.completions.create(chatParams, { signal: controller.signal }));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(clock.pending()).toEqual([]);
  });
});

describe('timeout.attempt', () => {
  it('aborts a stalled attempt and retries it as a timeout', async () => {
    const { server, clock, ai } = await harness({ timeout: { attempt: 10_000 } });
    server.enqueue(faults.stall(), faults.stall());
    const retries: RetryEvent[] = [];
    ai.resilience.on('retry', (event) => retries.push(event));
    const call = ai.chat.completions.create(chatParams);
    for (let stalled = 1; stalled <= 2; stalled++) {
      await until(() => server.requests.length === stalled);
      await clock.advance(10_000);
      await clock.until((timers) => timers.some((timer) => timer.delay < 10_000));
      await clock.advance(clock.pending()[0]!.delay);
    }
    const completion = await call;
    expect(completion.object).toBe('chat.completion');
    expect(server.requests).toHaveLength(3);
    expect(retries.map((event) => event.kind)).toEqual(['timeout', 'timeout']);
    await until(() => server.openRequests === 0);
  });

  it('a per-request timeout overrides timeout.attempt', async () => {
    const { server, clock, ai } = await harness({ retry: { maxRetries: 0 }, timeout: { attempt: 60_000 } });
    server.enqueue(faults.stall());
    const outcome = rejectionOf(ai.chat.completions.create(chatParams, { timeout: 500 }));
    await until(() => server.requests.length === 1);
    await clock.advance(500);
    expect(await outcome).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
  });
});

describe('timeout.total', () => {
  it('timeout: false disables both limits', async () => {
    const { server, clock, ai } = await harness({ timeout: false });
    server.enqueue(faults.delay(20));
    await ai.chat.completions.create(chatParams);
    expect(clock.pending()).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  it('sets its timer only when something waits on the call: not for a call that goes straight through', async () => {
    const total = 654_321; // longer than timeout.attempt (600 000): an attempt times itself by its own limit
    const { server, ai } = await harness({ clock: systemClock, timeout: { total }, retry: { initialDelay: 1 } });
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    const deadlineTimers = () => setTimeoutSpy.mock.calls.filter(([, ms]) => typeof ms === 'number' && ms > total - 50_000 && ms <= total).length;
    try {
      await ai.chat.completions.create(chatParams);
      expect(deadlineTimers(), 'straight through: each attempt bounds itself by the deadline').toBe(0);
      server.enqueue(faults.serverError(500));
      await ai.chat.completions.create(chatParams);
      expect(deadlineTimers(), 'a retry waits on the call: the deadline must end that wait').toBe(1);
    } finally {
      setTimeoutSpy.mockRestore();
    }
  });
});

describe('request bodies', () => {
  it('never retries a body that is a one-shot stream', async () => {
    const { server, clock, ai } = await harness();
    server.enqueue(faults.serverError(500));
    const giveUps: GiveUpEvent[] = [];
    ai.resilience.on('giveUp', (event) => giveUps.push(event));
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"purpose":"batch"}'));
        controller.close();
      },
    });
    const error = await rejectionOf(drive(clock, ai.post('/files', { body, headers: { 'content-type': 'application/json' } })));
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect(server.requests).toHaveLength(1);
    expect(giveUps[0]).toMatchObject({ reason: 'non_replayable_body' });
  });
});
