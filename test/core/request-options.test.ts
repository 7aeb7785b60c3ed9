import OpenAI from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resilient } from '../../src/index.js';
import { faults } from '../../src/testing/index.js';
import { chatParams, harness, rejectionOf } from '../support/harness.js';

/** Rejections nobody handled while a test ran. */
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeEach(() => {
  unhandled.length = 0;
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
});
const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

describe('per-request maxRetries and timeout are checked when the call is made', () => {
  it.each<[string, Record<string, unknown>, RegExp]>([
    ['maxRetries: -1', { maxRetries: -1 }, /^openai-resilient: the request option `maxRetries` must be an integer from 0 to 1_000, got -1\.$/],
    ['maxRetries: 1.5', { maxRetries: 1.5 }, /`maxRetries` must be an integer/],
    ["maxRetries: '3'", { maxRetries: '3' }, /`maxRetries` must be an integer from 0 to 1_000, got "3"/],
    ['maxRetries: 1001', { maxRetries: 1001 }, /`maxRetries` must be an integer from 0 to 1_000, got 1001/],
    ['maxRetries: null', { maxRetries: null }, /`maxRetries` must be an integer/],
    ["timeout: 'x'", { timeout: 'x' }, /^openai-resilient: the request option `timeout` must be an integer from 1 to 2_147_483_647 \(milliseconds, for each attempt\), got "x"\.$/],
    ["timeout: '5000'", { timeout: '5000' }, /`timeout` must be an integer .*, got "5000": write the number 5000\.$/],
    ['timeout: 0', { timeout: 0 }, /`timeout` must be an integer from 1/],
    ['timeout: 1.5', { timeout: 1.5 }, /`timeout` must be an integer/],
    ['timeout: 2 ** 31', { timeout: 2 ** 31 }, /`timeout` must be an integer from 1 to 2_147_483_647/],
    ['timeout: false', { timeout: false }, /`timeout` must be an integer/],
  ])('%s rejects the call with a TypeError naming it; nothing is sent', async (_name, options, message) => {
    const { server, ai } = await harness();
    const starts: unknown[] = [];
    ai.resilience.on('callStart', (event) => starts.push(event));
    const error = await rejectionOf(ai.chat.completions.create(chatParams, options as never));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toMatch(message);
    await settle();
    expect(server.requests).toHaveLength(0);
    expect(starts).toEqual([]);
    expect(unhandled).toEqual([]);
  });

  it('rejects a stream call and a call on a tenant view the same way', async () => {
    const { server, ai } = await harness();
    const stream = await rejectionOf(ai.chat.completions.create({ ...chatParams, stream: true }, { timeout: 'x' as never }));
    expect(stream).toBeInstanceOf(TypeError);
    const tenant = await rejectionOf(ai.resilience.forTenant('acme').embeddings.create({ model: 'text-embedding-3-small', input: 'hi' }, { maxRetries: -1 }));
    expect(tenant.message).toMatch(/the request option `maxRetries`/);
    await settle();
    expect(server.requests).toHaveLength(0);
    expect(unhandled).toEqual([]);
  });

  it('still takes valid ones: maxRetries 0 makes one attempt, and a timeout bounds it', async () => {
    const { server, ai } = await harness();
    server.enqueue(faults.serverError(500));
    const error = await rejectionOf(ai.chat.completions.create(chatParams, { maxRetries: 0, timeout: 5_000 }));
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect(server.requests).toHaveLength(1);
    expect(unhandled).toEqual([]);
  });

  it('checks withOptions({ maxRetries, timeout }) the same way, when the view is made', () => {
    const ai = resilient(new OpenAI({ apiKey: 'k', baseURL: 'http://127.0.0.1:9/v1' }));
    expect(() => ai.withOptions({ maxRetries: 1_001 })).toThrow(/^openai-resilient: `withOptions\(\{ maxRetries \}\)` must be an integer from 0 to 1_000, got 1001\.$/);
    expect(() => ai.withOptions({ timeout: '30000' as never })).toThrow(/`withOptions\(\{ timeout \}\)` must be an integer .*: write the number 30000\.$/);
    expect(() => ai.withOptions({ maxRetries: 3, timeout: 30_000 })).not.toThrow();
  });
});
