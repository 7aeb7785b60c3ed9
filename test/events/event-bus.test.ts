import OpenAI from 'openai';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventBus } from '../../src/events/event-bus.js';
import type { GiveUpEvent, ListenerErrorEvent, RetryEvent } from '../../src/index.js';
import { faults } from '../../src/testing/index.js';
import { chatParams, drive, harness } from '../support/harness.js';

const retryEvent: RetryEvent = {
  model: 'gpt-4.1-mini',
  method: 'POST',
  path: '/chat/completions',
  callId: 1,
  tenant: undefined,
  trafficClass: 'default',
  attempt: 1,
  delay: 500,
  delaySource: 'backoff',
  kind: 'server_error',
  status: 500,
  error: new Error('upstream'),
};

const giveUpEvent: GiveUpEvent = {
  model: undefined,
  method: 'GET',
  path: '/models',
  callId: 2,
  tenant: undefined,
  trafficClass: 'default',
  attempt: 1,
  kind: 'bad_request',
  reason: 'not_retryable',
  delay: undefined,
  status: 400,
  error: new Error('bad'),
};

afterEach(() => {
  vi.restoreAllMocks();
});

/** Lets every pending promise job run, and Node's unhandled-rejection check after them. */
async function settled(): Promise<void> {
  for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
}

/** Records the process's `unhandledRejection` events until `stop()`. */
function watchUnhandledRejections() {
  const seen: unknown[] = [];
  const onRejection = (reason: unknown) => void seen.push(reason);
  process.on('unhandledRejection', onRejection);
  return { seen, stop: () => void process.off('unhandledRejection', onRejection) };
}

describe('EventBus', () => {
  it('delivers each payload to the listeners of that event, in order of subscription', () => {
    const bus = new EventBus();
    const calls: string[] = [];
    bus.on('retry', (event) => calls.push(`a:${event.delay}`));
    bus.on('retry', (event) => calls.push(`b:${event.attempt}`));
    bus.on('giveUp', (event) => calls.push(`giveUp:${event.reason}`));

    bus.emit('retry', retryEvent);
    expect(calls).toEqual(['a:500', 'b:1']);
    bus.emit('giveUp', giveUpEvent);
    expect(calls).toEqual(['a:500', 'b:1', 'giveUp:not_retryable']);
  });

  it('passes the payload object itself', () => {
    const bus = new EventBus();
    const seen: RetryEvent[] = [];
    bus.on('retry', (event) => seen.push(event));
    bus.emit('retry', retryEvent);
    expect(seen[0]).toBe(retryEvent);
  });

  it('does nothing when nobody listens', () => {
    const bus = new EventBus();
    expect(() => bus.emit('retry', retryEvent)).not.toThrow();
  });

  it('stops delivering after unsubscribe, and unsubscribing twice is harmless', () => {
    const bus = new EventBus();
    const first = vi.fn();
    const second = vi.fn();
    const stopFirst = bus.on('retry', first);
    bus.on('retry', second);

    bus.emit('retry', retryEvent);
    stopFirst();
    stopFirst();
    bus.emit('retry', retryEvent);

    expect(first).toHaveBeenCalledTimes(1);
    expect(second).toHaveBeenCalledTimes(2);
  });

  it('keeps two subscriptions of the same function apart', () => {
    const bus = new EventBus();
    const listener = vi.fn();
    const stop = bus.on('retry', listener);
    bus.on('retry', listener);
    bus.emit('retry', retryEvent);
    expect(listener).toHaveBeenCalledTimes(2);
    stop();
    bus.emit('retry', retryEvent);
    expect(listener).toHaveBeenCalledTimes(3);
  });

  it('lets a listener unsubscribe another during an emit without skipping anyone in that emit', () => {
    const bus = new EventBus();
    const calls: string[] = [];
    let stopB = () => {};
    bus.on('retry', () => {
      calls.push('a');
      stopB();
    });
    stopB = bus.on('retry', () => calls.push('b'));
    bus.emit('retry', retryEvent);
    bus.emit('retry', retryEvent);
    expect(calls).toEqual(['a', 'b', 'a']);
  });

  it('has() is true only while someone listens to that event', () => {
    const bus = new EventBus();
    expect(bus.has('retry')).toBe(false);
    const stop = bus.on('retry', () => {});
    expect(bus.has('retry')).toBe(true);
    expect(bus.has('giveUp')).toBe(false);
    expect(bus.has('listenerError')).toBe(false);
    stop();
    expect(bus.has('retry')).toBe(false);
  });

  it('throws a TypeError for a listener that is not a function', () => {
    const bus = new EventBus();
    expect(() => bus.on('retry', 'log' as never)).toThrow(TypeError);
    expect(() => bus.on('giveUp', undefined as never)).toThrow(/`giveUp`/);
    expect(bus.has('retry')).toBe(false);
  });

  it('a throwing listener does not stop the others; its error goes to listenerError listeners', () => {
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
    const bus = new EventBus();
    const boom = new Error('boom');
    const after = vi.fn();
    const reported: ListenerErrorEvent[] = [];
    bus.on('retry', () => {
      throw boom;
    });
    bus.on('retry', after);
    bus.on('listenerError', (event) => reported.push(event));

    expect(() => bus.emit('retry', retryEvent)).not.toThrow();
    expect(after).toHaveBeenCalledWith(retryEvent);
    expect(reported).toEqual([{ event: 'retry', error: boom }]);
    expect(consoleError).not.toHaveBeenCalled();
  });

  it('without a listenerError listener, the error goes to console.error', () => {
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
    const bus = new EventBus();
    const boom = new Error('boom');
    const after = vi.fn();
    bus.on('giveUp', () => {
      throw boom;
    });
    bus.on('giveUp', after);

    bus.emit('giveUp', giveUpEvent);
    expect(after).toHaveBeenCalledTimes(1);
    expect(consoleError).toHaveBeenCalledTimes(1);
    expect(consoleError.mock.calls[0]![0]).toMatch(/`giveUp` listener threw/);
    expect(consoleError.mock.calls[0]![1]).toBe(boom);
  });

  it('a throwing listenerError listener goes to console.error instead of recursing', () => {
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
    const bus = new EventBus();
    const first = new Error('first');
    const second = new Error('second');
    const otherReporter = vi.fn();
    bus.on('retry', () => {
      throw first;
    });
    const reporter = vi.fn(() => {
      throw second;
    });
    bus.on('listenerError', reporter);
    bus.on('listenerError', otherReporter);

    expect(() => bus.emit('retry', retryEvent)).not.toThrow();
    expect(reporter).toHaveBeenCalledTimes(1);
    expect(otherReporter).toHaveBeenCalledWith({ event: 'retry', error: first });
    expect(consoleError).toHaveBeenCalledTimes(1);
    expect(consoleError.mock.calls[0]![0]).toMatch(/`listenerError` listener threw/);
    expect(consoleError.mock.calls[0]![1]).toBe(second);
  });

  it('an async listener that rejects is reported to listenerError listeners, not left unhandled', async () => {
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
    const bus = new EventBus();
    const boom = new Error('async boom');
    const reported: ListenerErrorEvent[] = [];
    bus.on('listenerError', (event) => reported.push(event));
    bus.on('retry', async () => {
      throw boom;
    });
    expect(() => bus.emit('retry', retryEvent)).not.toThrow();
    await settled();
    expect(reported).toEqual([{ event: 'retry', error: boom }]);
    expect(consoleError).not.toHaveBeenCalled();
  });

  it('without a listenerError listener or a log, a rejection goes to console.error', async () => {
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
    const bus = new EventBus();
    const boom = new Error('async boom');
    bus.on('giveUp', () => Promise.reject(boom));
    bus.emit('giveUp', giveUpEvent);
    await settled();
    expect(consoleError).toHaveBeenCalledTimes(1);
    expect(consoleError.mock.calls[0]![0]).toMatch(/`giveUp` listener returned a rejected promise/);
    expect(consoleError.mock.calls[0]![1]).toBe(boom);
  });

  it('with a log, a failure goes to the log and to listenerError listeners, and not to console.error', async () => {
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
    const logged: unknown[][] = [];
    const bus = new EventBus((...args) => logged.push(args));
    const reported: ListenerErrorEvent[] = [];
    bus.on('listenerError', (event) => reported.push(event));
    const thrown = new Error('thrown');
    const rejected = new Error('rejected');
    bus.on('retry', () => {
      throw thrown;
    });
    bus.on('giveUp', async () => Promise.reject(rejected));
    bus.emit('retry', retryEvent);
    bus.emit('giveUp', giveUpEvent);
    await settled();
    expect(logged).toEqual([
      ['retry', thrown, 'threw'],
      ['giveUp', rejected, 'rejected'],
    ]);
    expect(reported.map((event) => event.error)).toEqual([thrown, rejected]);
    expect(consoleError).not.toHaveBeenCalled();
  });

  it('a listenerError listener that rejects is logged once: no loop, no unhandled rejection', async () => {
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
    const logged: unknown[][] = [];
    const bus = new EventBus((...args) => logged.push(args));
    const first = new Error('first');
    const second = new Error('second');
    const reporter = vi.fn(async () => {
      throw second;
    });
    bus.on('listenerError', reporter);
    bus.on('retry', async () => {
      throw first;
    });
    bus.emit('retry', retryEvent);
    await settled();
    expect(reporter).toHaveBeenCalledTimes(1);
    expect(logged).toEqual([
      ['retry', first, 'rejected'],
      ['listenerError', second, 'rejected'],
    ]);
    expect(consoleError).not.toHaveBeenCalled();
  });

  it('a log that throws falls back to console.error with both errors', async () => {
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
    const logDown = new Error('log down');
    const bus = new EventBus(() => {
      throw logDown;
    });
    const boom = new Error('boom');
    bus.on('retry', async () => Promise.reject(boom));
    bus.emit('retry', retryEvent);
    await settled();
    expect(consoleError.mock.calls.map((call) => call[1])).toEqual([logDown, boom]);
  });

  it('a returned object that is not a promise is ignored; a throwing `then` getter is reported', () => {
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
    const bus = new EventBus();
    const bad = new Error('then getter');
    bus.on('retry', () => new Map() as never);
    bus.on('retry', () => ({ get then() { throw bad; } }) as never);
    bus.emit('retry', retryEvent);
    expect(consoleError).toHaveBeenCalledTimes(1);
    expect(consoleError.mock.calls[0]![1]).toBe(bad);
  });
});

describe('listener errors during a real call', () => {
  it('a throwing retry listener does not affect the call', async () => {
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
    const { server, clock, ai } = await harness();
    server.enqueue(faults.serverError(500));
    ai.resilience.on('retry', () => {
      throw new Error('boom');
    });
    const completion = await drive(clock, ai.chat.completions.create(chatParams));
    expect(completion.object).toBe('chat.completion');
    expect(server.requests).toHaveLength(2);
    expect(consoleError).toHaveBeenCalledTimes(1);
    expect(String(consoleError.mock.calls[0]![1])).toMatch(/boom/);
  });

  it('reports the listener error to listenerError listeners of the client', async () => {
    const { server, clock, ai } = await harness();
    server.enqueue(faults.serverError(500), faults.badRequest());
    const reported: ListenerErrorEvent[] = [];
    ai.resilience.on('listenerError', (event) => reported.push(event));
    ai.resilience.on('giveUp', () => {
      throw new Error('giveUp listener failed');
    });
    ai.resilience.on('retry', () => {
      throw new Error('retry listener failed');
    });
    const error = await drive(clock, ai.chat.completions.create(chatParams)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(reported.map((event) => [event.event, (event.error as Error).message])).toEqual([
      ['retry', 'retry listener failed'],
      ['giveUp', 'giveUp listener failed'],
    ]);
  });

  it('an async listener that rejects is contained and logged: no unhandledRejection, the call succeeds', async () => {
    const unhandled = watchUnhandledRejections();
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const lines: unknown[][] = [];
      const logger = { error: (...args: unknown[]) => void lines.push(args) };
      const { server, clock, ai } = await harness({ logger });
      server.enqueue(faults.serverError(500), faults.serverError(503));
      const reported: ListenerErrorEvent[] = [];
      ai.resilience.on('listenerError', (event) => reported.push(event));
      ai.resilience.on('retry', async (event) => {
        throw new Error(`retry listener failed after attempt ${event.attempt}`);
      });
      const completion = await drive(clock, ai.chat.completions.create(chatParams));
      await settled();
      expect(completion.object).toBe('chat.completion');
      expect(server.requests).toHaveLength(3);
      expect(unhandled.seen).toEqual([]);
      expect(reported.map((event) => [event.event, (event.error as Error).message])).toEqual([
        ['retry', 'retry listener failed after attempt 1'],
        ['retry', 'retry listener failed after attempt 2'],
      ]);
      expect(lines).toHaveLength(2);
      expect(lines[0]![0]).toBe('openai-resilient: a `retry` listener returned a rejected promise; the call was not affected');
      expect(lines[0]![1]).toMatchObject({ event: 'retry', error: { name: 'Error', message: 'retry listener failed after attempt 1' } });
      expect(consoleError).not.toHaveBeenCalled();
    } finally {
      unhandled.stop();
    }
  });

  it('without a logger or a listenerError listener, an async listener rejection goes to console.error, not unhandled', async () => {
    const unhandled = watchUnhandledRejections();
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const { server, clock, ai } = await harness();
      server.enqueue(faults.badRequest());
      ai.resilience.on('giveUp', async () => {
        await Promise.resolve();
        throw new Error('giveUp listener failed');
      });
      const error = await drive(clock, ai.chat.completions.create(chatParams)).catch((caught: unknown) => caught);
      await settled();
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect(unhandled.seen).toEqual([]);
      expect(consoleError).toHaveBeenCalledTimes(1);
      expect(consoleError.mock.calls[0]![0]).toMatch(/`giveUp` listener returned a rejected promise/);
    } finally {
      unhandled.stop();
    }
  });

  it('a logger at logLevel off leaves listener failures to console.error', async () => {
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
    const logger = { error: vi.fn() };
    const { server, clock, ai } = await harness({ logger, logLevel: 'off' });
    server.enqueue(faults.serverError(500));
    ai.resilience.on('retry', () => {
      throw new Error('boom');
    });
    await drive(clock, ai.chat.completions.create(chatParams));
    expect(logger.error).not.toHaveBeenCalled();
    expect(consoleError).toHaveBeenCalledTimes(1);
  });
});
