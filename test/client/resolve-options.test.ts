import { ConstantBackoff, TimeoutStrategy, bulkhead, circuitBreaker, ConsecutiveBreaker, handleAll, timeout } from 'cockatiel';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { resilient, type RetryEvent } from '../../src/index.js';
import { FakeClock, faults } from '../../src/testing/index.js';
import { chatParams, drive, harness, rejectionOf } from '../support/harness.js';

/** A client that is never asked to send anything (nothing listens on port 9). */
const client = () => new OpenAI({ apiKey: 'k', baseURL: 'http://127.0.0.1:9/v1' });

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Asserts that `resilient(client, options)` throws a TypeError naming `option` in backticks. */
function expectRejected(options: unknown, option: string): TypeError {
  let thrown: unknown;
  try {
    resilient(client(), options as never);
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `expected a TypeError for ${option}`).toBeInstanceOf(TypeError);
  expect((thrown as TypeError).message).toMatch(new RegExp(`\`${escape(option)}\``));
  expect((thrown as TypeError).message).toMatch(/^openai-resilient: /);
  return thrown as TypeError;
}

describe('resilient(): invalid options throw a TypeError naming the option', () => {
  it.each([
    ['retry.maxRetries: -3', { retry: { maxRetries: -3 } }, 'retry.maxRetries'],
    ['retry.maxRetries: 1.5', { retry: { maxRetries: 1.5 } }, 'retry.maxRetries'],
    ["retry.maxRetries: '3'", { retry: { maxRetries: '3' } }, 'retry.maxRetries'],
    ['retry.initialDelay: NaN', { retry: { initialDelay: Number.NaN } }, 'retry.initialDelay'],
    ['retry.initialDelay: -1', { retry: { initialDelay: -1 } }, 'retry.initialDelay'],
    ['retry.maxDelay < initialDelay', { retry: { initialDelay: 2000, maxDelay: 1000 } }, 'retry.maxDelay'],
    ['retry.maxDelay: Infinity', { retry: { maxDelay: Infinity } }, 'retry.maxDelay'],
    ['retry.maxRetryAfter: -1', { retry: { maxRetryAfter: -1 } }, 'retry.maxRetryAfter'],
    ["retry.jitter: 'yes'", { retry: { jitter: 'yes' } }, 'retry.jitter'],
    ['retry.backoff: {}', { retry: { backoff: {} } }, 'retry.backoff'],
    ['retry.backoff: null', { retry: { backoff: null } }, 'retry.backoff'],
    ['retry: true', { retry: true }, 'retry'],
    ['timeout.attempt: 0', { timeout: { attempt: 0 } }, 'timeout.attempt'],
    ['timeout.attempt: true', { timeout: { attempt: true } }, 'timeout.attempt'],
    ['timeout.total: Infinity', { timeout: { total: Infinity } }, 'timeout.total'],
    ['timeout.total: -5', { timeout: { total: -5 } }, 'timeout.total'],
    ['timeout: 5', { timeout: 5 }, 'timeout'],
    ['unknown top-level key', { retries: 3 }, 'retries'],
    ['unknown nested key', { retry: { attempts: 3 } }, 'retry.attempts'],
    ['unknown timeout key', { timeout: { request: 3 } }, 'timeout.request'],
    ["actions.bad_request: 'maybe'", { actions: { bad_request: 'maybe' } }, 'actions.bad_request'],
    ['actions.unknown_kind', { actions: { unknown_kind: 'retry' } }, 'actions.unknown_kind'],
    ["actions.aborted: 'retry'", { actions: { aborted: 'retry' } }, 'actions.aborted'],
    ["actions.deadline_exceeded: 'retry'", { actions: { deadline_exceeded: 'retry' } }, 'actions.deadline_exceeded'],
    ['actions: []', { actions: [] }, 'actions'],
    ['policies.call: {}', { policies: { call: {} } }, 'policies.call'],
    ['policies.attempt: [{}]', { policies: { attempt: [{}] } }, 'policies.attempt[0]'],
    ['policies.unknown', { policies: { around: [] } }, 'policies.around'],
    ['clock: {}', { clock: {} }, 'clock'],
    ['clock without clearTimeout', { clock: { now: () => 0, setTimeout: () => 0 } }, 'clock'],
    ['shared: {}', { shared: {} }, 'shared'],
    ["circuitBreaker.jitter: 'yes'", { circuitBreaker: { jitter: 'yes' } }, 'circuitBreaker.jitter'],
    ['circuitBreaker.waitForProbe: -1', { circuitBreaker: { waitForProbe: -1 } }, 'circuitBreaker.waitForProbe'],
    ['circuitBreaker.maxQueued: 2.5', { circuitBreaker: { maxQueued: 2.5 } }, 'circuitBreaker.maxQueued'],
    ['circuitBreaker.maxHalfOpenAfter < halfOpenAfter', { circuitBreaker: { halfOpenAfter: 2_000, maxHalfOpenAfter: 1_000 } }, 'circuitBreaker.maxHalfOpenAfter'],
    ['hedge.delay: 0', { hedge: { delay: 0 } }, 'hedge.delay'],
    ["hedge.delay: 'p95'", { hedge: { delay: 'p95' } }, 'hedge.delay'],
    ['hedge.delay.percentile: 100', { hedge: { delay: { percentile: 100 } } }, 'hedge.delay.percentile'],
    ['hedge.delay: {}', { hedge: { delay: {} } }, 'hedge.delay.percentile'],
    ['hedge.maxHedgedShare: 0', { hedge: { maxHedgedShare: 0 } }, 'hedge.maxHedgedShare'],
    ['hedge.maxHedgedShare: 1.5', { hedge: { maxHedgedShare: 1.5 } }, 'hedge.maxHedgedShare'],
    ['hedge.maxExtraAttempts: 0', { hedge: { maxExtraAttempts: 0 } }, 'hedge.maxExtraAttempts'],
    ['hedge.minSamples: 2.5', { hedge: { minSamples: 2.5 } }, 'hedge.minSamples'],
    ["hedge: 'on'", { hedge: 'on' }, 'hedge'],
    ['hedge unknown key', { hedge: { after: 100 } }, 'hedge.after'],
    ['shared: a Redis client instead of the state', { shared: { isReady: true, eval: () => 0, evalSha: () => 0 } }, 'shared'],
  ])('%s', (_name, options, option) => {
    expectRejected(options, option);
  });

  it('says what was expected and what it got', () => {
    expect(expectRejected({ retry: { maxRetries: -3 } }, 'retry.maxRetries').message).toMatch(/an integer from 0 to 1_000, got -3\.$/);
    expect(expectRejected({ retry: { jitter: 'yes' } }, 'retry.jitter').message).toMatch(/boolean, got "yes"/);
    expect(expectRejected({ retry: { initialDelay: 2000, maxDelay: 1000 } }, 'retry.maxDelay').message).toMatch(/`retry.initialDelay` \(2000\)/);
    expect(expectRejected({ retries: 3 }, 'retries').message).toMatch(/expected one of `retry`, `timeout`, .*`actions`.*`circuitBreaker`.*`clock`/);
  });

  it('names the options argument itself when it is not an object', () => {
    expectRejected(5, 'options');
    expectRejected('fast', 'options');
    expectRejected([], 'options');
  });

  it('rejects something that is not an OpenAI client', () => {
    expect(() => resilient({} as any)).toThrow(TypeError);
    expect(() => resilient({} as any)).toThrow(/`client`/);
    expect(() => resilient(null as any)).toThrow(TypeError);
  });

  it('refuses to wrap a client twice', () => {
    const ai = resilient(client());
    expect(() => resilient(ai)).toThrow(/already resilient/);
  });
});

describe('resilient(): valid options', () => {
  it.each([
    ['no options', undefined],
    ['{}', {}],
    ['retry: false', { retry: false }],
    ['timeout: false', { timeout: false }],
    ['timeout: { total: false }', { timeout: { total: false } }],
    ['timeout: { attempt: false, total: 1 }', { timeout: { attempt: false, total: 1 } }],
    ['every retry field', { retry: { maxRetries: 0, initialDelay: 0, maxDelay: 0, maxRetryAfter: 0, jitter: false } }],
    ['undefined fields', { retry: { maxRetries: undefined }, timeout: undefined, actions: undefined }],
    ['a cockatiel backoff', { retry: { backoff: new ConstantBackoff(10) } }],
    ['actions', { actions: { quota_exhausted: 'retry', server_error: 'fail', aborted: 'fail' } }],
    ['empty policy arrays', { policies: { call: [], attempt: [] } }],
    ['cockatiel policies', { policies: { call: [bulkhead(2)], attempt: [timeout(1000, TimeoutStrategy.Cooperative)] } }],
    ['several policies', { policies: { call: [bulkhead(2), circuitBreaker(handleAll, { halfOpenAfter: 1000, breaker: new ConsecutiveBreaker(3) })] } }],
    ['a clock', { clock: new FakeClock() }],
  ])('%s', (_name, options) => {
    const ai = resilient(client(), options as never);
    expect(ai).toBeInstanceOf(OpenAI);
    expect(typeof ai.resilience.on).toBe('function');
  });

  it('accepts initialDelay above the default maxDelay when maxDelay is not given', () => {
    expect(() => resilient(client(), { retry: { initialDelay: 45_000 } })).not.toThrow();
  });
});

describe('resilient(): settings carried over from the client', () => {
  async function requestsFor(clientMaxRetries: number, retry?: { maxRetries?: number }) {
    const { server, clock, ai } = await harness(retry ? { retry } : {}, { maxRetries: clientMaxRetries });
    server.enqueue(...Array.from({ length: 8 }, () => faults.serverError(500)));
    const retries: RetryEvent[] = [];
    ai.resilience.on('retry', (event) => retries.push(event));
    const error = await rejectionOf(drive(clock, ai.chat.completions.create(chatParams)));
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect(retries).toHaveLength(server.requests.length - 1);
    return server.requests.length;
  }

  it("inherits the client's own positive maxRetries", async () => {
    expect(await requestsFor(4)).toBe(5);
  });

  it('uses the default (2) when the client says maxRetries: 0', async () => {
    expect(await requestsFor(0)).toBe(3);
  });

  it('prefers retry.maxRetries over the client setting', async () => {
    expect(await requestsFor(4, { maxRetries: 1 })).toBe(2);
  });
});
