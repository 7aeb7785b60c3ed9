import { describe, expect, it } from 'vitest';
import { faults } from '../../src/testing/index.js';
import type { AttemptEndEvent, RetryEvent } from '../../src/index.js';
import { chatParams, drive, rejectionOf } from '../support/harness.js';
import { memberPool } from '../support/pool-members.js';

describe('pool retries', () => {
  it('retries at once on a member the call has not failed on yet', async () => {
    const h = await memberPool([{}, {}, {}], { pool: { routing: 'ordered' } });
    const retries: RetryEvent[] = [];
    const ends: AttemptEndEvent[] = [];
    h.ai.resilience.on('retry', (e) => retries.push(e));
    h.ai.resilience.on('attemptEnd', (e) => ends.push(e));
    h.servers[0]!.enqueue(faults.serverError(500));
    h.servers[1]!.enqueue(faults.serverError(503));
    const started = h.clock.now();
    await drive(h.clock, h.ai.chat.completions.create(chatParams));
    expect(h.received()).toEqual([1, 1, 1]);
    expect(ends.map((e) => [e.member, e.outcome])).toEqual([['m0', 'failure'], ['m1', 'failure'], ['m2', 'success']]);
    expect(retries.map((e) => [e.member, e.delay, e.delaySource])).toEqual([['m0', 0, 'member'], ['m1', 0, 'member']]);
    // No backoff was waited: another member could take each retry at once.
    expect(h.clock.now()).toBe(started);
  });

  it('a 429 on one member goes to another at once, and the paused member is skipped until its pause ends', async () => {
    const h = await memberPool([{}, {}], { pool: { routing: 'ordered' }, rateLimit: {} });
    // A 429 that says only when to come back (no x-ratelimit-* headers to learn a limit from).
    h.servers[0]!.enqueue(faults.rateLimited({ retryAfterMs: 30_000, noRetryHeaders: true }));
    await drive(h.clock, h.ai.chat.completions.create(chatParams));
    expect(h.received()).toEqual([1, 1]);
    // m0 is paused for 30 s: ordered routing skips it.
    await drive(h.clock, h.ai.chat.completions.create(chatParams));
    expect(h.received()).toEqual([1, 2]);
    expect(h.ai.resilience.stats().members!['m0']!.rateLimits['gpt-4.1-mini']!.pausedUntil).toBe(h.clock.now() + 30_000);
    await h.clock.advance(30_000);
    await drive(h.clock, h.ai.chat.completions.create(chatParams));
    expect(h.received()).toEqual([2, 2]);
  });

  it('retries the same member after its backoff when it is the only one serving the model', async () => {
    const h = await memberPool([{}, { models: ['gpt-4.1'] }]);
    const retries: RetryEvent[] = [];
    h.ai.resilience.on('retry', (e) => retries.push(e));
    h.servers[0]!.enqueue(faults.serverError(500));
    await drive(h.clock, h.ai.chat.completions.create(chatParams));
    expect(h.received()).toEqual([2, 0]);
    expect(retries).toEqual([expect.objectContaining({ member: 'm0', delaySource: 'backoff' })]);
    expect(retries[0]!.delay).toBeGreaterThan(0);
  });

  it('skips a member whose circuit is open, and names it in circuits() and stats().members', async () => {
    const h = await memberPool([{}, {}], {
      pool: { routing: 'ordered' },
      circuitBreaker: { consecutiveFailures: 2, halfOpenAfter: 10_000 },
      retry: { maxRetries: 0 },
    });
    h.servers[0]!.enqueue(faults.serverError(500), faults.serverError(500));
    await rejectionOf(drive(h.clock, h.ai.chat.completions.create(chatParams)));
    await rejectionOf(drive(h.clock, h.ai.chat.completions.create(chatParams)));
    expect(h.ai.resilience.circuits()).toMatchObject({ 'm0/gpt-4.1-mini': 'open' });
    for (let i = 0; i < 5; i++) await drive(h.clock, h.ai.chat.completions.create(chatParams));
    expect(h.received()).toEqual([2, 5]);
    const members = h.ai.resilience.stats().members!;
    expect(members['m0']).toMatchObject({ requests: 2, failures: 2, inFlight: 0, circuits: { 'gpt-4.1-mini': 'open' } });
    expect(members['m1']).toMatchObject({ requests: 5, failures: 0, circuits: { 'gpt-4.1-mini': 'closed' } });
    // Once its pause is over, the open member gets the probe and, answering, its traffic back.
    await h.clock.advance(10_000);
    await drive(h.clock, h.ai.chat.completions.create(chatParams));
    expect(h.received()).toEqual([3, 5]);
    expect(h.ai.resilience.circuits()['m0/gpt-4.1-mini']).toBe('closed');
  });

  it('gives the caller the last upstream error when every member failed', async () => {
    const h = await memberPool([{}, {}], { retry: { maxRetries: 1 } });
    h.servers[0]!.enqueue(faults.serverError(500));
    h.servers[1]!.enqueue(faults.serverError(502));
    const error = await rejectionOf(drive(h.clock, h.ai.chat.completions.create(chatParams)));
    expect([500, 502]).toContain(error.status);
    expect(h.received()).toEqual([1, 1]);
  });
});

describe('pool: failures of one member that another does not share', () => {
  it.each([
    ['a revoked key (401)', () => faults.unauthorized()],
    ['a project out of quota', () => faults.insufficientQuota()],
    ['a deployment that does not exist (404)', () => faults.notFound({ model: 'gpt-4.1-mini' })],
    ['a key without access (403)', () => faults.forbidden()],
  ])('%s goes to another member at once', async (_, fault) => {
    const h = await memberPool([{}, {}], { pool: { routing: 'ordered' } });
    const retries: RetryEvent[] = [];
    h.ai.resilience.on('retry', (e) => retries.push(e));
    h.servers[0]!.enqueue(fault());
    await drive(h.clock, h.ai.chat.completions.create(chatParams));
    expect(h.received()).toEqual([1, 1]);
    expect(retries).toEqual([expect.objectContaining({ member: 'm0', delay: 0, delaySource: 'member' })]);
  });

  it('fails as a single client would once every member refused', async () => {
    const h = await memberPool([{}, {}]);
    h.servers[0]!.enqueue(faults.unauthorized());
    h.servers[1]!.enqueue(faults.unauthorized());
    const error = await rejectionOf(drive(h.clock, h.ai.chat.completions.create(chatParams)));
    expect(error.status).toBe(401);
    expect(h.received()).toEqual([1, 1]);
  });
});
