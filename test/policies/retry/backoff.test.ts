import { ConstantBackoff } from 'cockatiel';
import { describe, expect, it } from 'vitest';
import {
  ExponentialJitterBackoff,
  OVERLOADED_BACKOFF_FACTOR,
  type ErrorKind,
  type GiveUpEvent,
  type RetryBackoffContext,
  type RetryEvent,
} from '../../../src/index.js';
import { faults } from '../../../src/testing/index.js';
import { chatParams, drive, harness, rejectionOf } from '../../support/harness.js';

const signal = new AbortController().signal;

function context(attempt: number, kind: ErrorKind = 'server_error'): RetryBackoffContext {
  return { attempt, kind, result: { error: new Error('x') }, signal };
}

/** The durations of attempts 1..n, asking the factory each time. */
function durations(backoff: ExponentialJitterBackoff, n: number, kind: ErrorKind = 'server_error'): number[] {
  return Array.from({ length: n }, (_, i) => backoff.next(context(i + 1, kind)).duration);
}

describe('ExponentialJitterBackoff', () => {
  it('doubles from initialDelay and stops at maxDelay', () => {
    const backoff = new ExponentialJitterBackoff({ initialDelay: 100, maxDelay: 1000, jitter: false });
    expect(durations(backoff, 6)).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('defaults to 500 ms doubling up to 30 s', () => {
    const backoff = new ExponentialJitterBackoff({ jitter: false });
    expect(durations(backoff, 8)).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
  });

  it('treats attempt 0 like attempt 1', () => {
    const backoff = new ExponentialJitterBackoff({ initialDelay: 100, jitter: false });
    expect(backoff.next(context(0)).duration).toBe(100);
  });

  it('waits OVERLOADED_BACKOFF_FACTOR (4) times longer for overloaded, still capped', () => {
    expect(OVERLOADED_BACKOFF_FACTOR).toBe(4);
    const backoff = new ExponentialJitterBackoff({ initialDelay: 100, maxDelay: 2000, jitter: false });
    expect(durations(backoff, 4, 'overloaded')).toEqual([400, 800, 1600, 2000]);
    expect(durations(backoff, 4, 'rate_limited')).toEqual([100, 200, 400, 800]);
  });

  it('jitter draws between half and all of the delay', () => {
    const low = new ExponentialJitterBackoff({ initialDelay: 1000, maxDelay: 8000, random: () => 0 });
    expect(durations(low, 5)).toEqual([500, 1000, 2000, 4000, 4000]);

    const high = new ExponentialJitterBackoff({ initialDelay: 1000, maxDelay: 8000, random: () => 0.999 });
    const highDurations = durations(high, 5);
    [1000, 2000, 4000, 8000, 8000].forEach((ceiling, i) => {
      expect(highDurations[i]).toBeLessThanOrEqual(ceiling);
      expect(highDurations[i]).toBeGreaterThanOrEqual(Math.floor(ceiling * 0.999));
    });

    const middle = new ExponentialJitterBackoff({ initialDelay: 1000, random: () => 0.5 });
    expect(middle.next(context(1)).duration).toBe(750);
    expect(middle.next(context(1, 'overloaded')).duration).toBe(3000);
  });

  it('jitter is on by default and draws from `random` once per delay', () => {
    let draws = 0;
    const backoff = new ExponentialJitterBackoff({
      initialDelay: 1000,
      random: () => {
        draws++;
        return 0.25;
      },
    });
    expect(backoff.next(context(2)).duration).toBe(1250);
    expect(draws).toBe(1);
  });

  it('jitter: false never calls random', () => {
    const backoff = new ExponentialJitterBackoff({
      initialDelay: 300,
      jitter: false,
      random: () => {
        throw new Error('random must not be called');
      },
    });
    expect(durations(backoff, 3)).toEqual([300, 600, 1200]);
  });

  it('returns whole milliseconds', () => {
    const backoff = new ExponentialJitterBackoff({ initialDelay: 333, random: () => 0.123 });
    for (const duration of durations(backoff, 5)) expect(Number.isInteger(duration)).toBe(true);
  });

  it('chains like a cockatiel backoff: next() of a backoff reads the new context', () => {
    const factory = new ExponentialJitterBackoff({ initialDelay: 100, jitter: false });
    const first = factory.next(context(1));
    const second = first.next(context(2));
    const third = second.next(context(3, 'overloaded'));
    expect([first.duration, second.duration, third.duration]).toEqual([100, 200, 1600]);
  });
});

describe('retry.backoff: a custom cockatiel backoff, end to end', () => {
  it('is used for failures without a server hint', async () => {
    const { server, clock, ai } = await harness({ retry: { backoff: new ConstantBackoff(1234) } });
    server.enqueue(faults.serverError(500));
    const retries: RetryEvent[] = [];
    ai.resilience.on('retry', (event) => retries.push(event));
    await drive(clock, ai.chat.completions.create(chatParams));
    expect(server.requests).toHaveLength(2);
    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatchObject({ delay: 1234, delaySource: 'backoff', kind: 'server_error', status: 500 });
  });

  it('does not replace the server hint', async () => {
    const { server, clock, ai } = await harness({ retry: { backoff: new ConstantBackoff(1234) } });
    server.enqueue(faults.rateLimited({ retryAfterMs: 50 }));
    const retries: RetryEvent[] = [];
    ai.resilience.on('retry', (event) => retries.push(event));
    await drive(clock, ai.chat.completions.create(chatParams));
    expect(server.requests).toHaveLength(2);
    expect(retries[0]).toMatchObject({ delay: 50, delaySource: 'retry-after-ms', kind: 'rate_limited' });
  });

  it('receives the attempt and the error kind, and is chained across retries', async () => {
    const seen: Array<{ attempt: number; kind: ErrorKind }> = [];
    const backoff = {
      next(ctx: RetryBackoffContext) {
        seen.push({ attempt: ctx.attempt, kind: ctx.kind });
        return { duration: 100 * ctx.attempt, next: (next: RetryBackoffContext) => backoff.next(next) };
      },
    };
    const { server, clock, ai } = await harness({ retry: { backoff, maxRetries: 3 } });
    server.enqueue(faults.serverError(500), faults.overloaded(), faults.reset());
    const retries: RetryEvent[] = [];
    ai.resilience.on('retry', (event) => retries.push(event));
    await drive(clock, ai.chat.completions.create(chatParams));
    expect(seen).toEqual([
      { attempt: 1, kind: 'server_error' },
      { attempt: 2, kind: 'overloaded' },
      { attempt: 3, kind: 'connection' },
    ]);
    expect(retries.map((event) => event.delay)).toEqual([100, 200, 300]);
  });

  it('is used when the server hint is unreadable (retry-after: -1)', async () => {
    const { server, clock, ai } = await harness({ retry: { backoff: new ConstantBackoff(1234) } });
    server.enqueue(faults.overloaded({ headers: { 'retry-after': '-1' } }));
    const retries: RetryEvent[] = [];
    ai.resilience.on('retry', (event) => retries.push(event));
    await drive(clock, ai.chat.completions.create(chatParams));
    expect(retries[0]).toMatchObject({ delay: 1234, delaySource: 'backoff', kind: 'overloaded' });
  });

  it('a backoff wait that cannot fit in timeout.total ends the call', async () => {
    const { server, clock, ai } = await harness({ retry: { backoff: new ConstantBackoff(10_000) }, timeout: { total: 5000 } });
    server.enqueue(faults.serverError(500));
    const giveUps: GiveUpEvent[] = [];
    ai.resilience.on('giveUp', (event) => giveUps.push(event));
    await rejectionOf(drive(clock, ai.chat.completions.create(chatParams)));
    expect(server.requests).toHaveLength(1);
    expect(giveUps[0]).toMatchObject({ reason: 'deadline', delay: 10_000 });
  });
});
