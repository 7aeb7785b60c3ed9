// ESM consumer smoke test: run by .ci/consumers.sh in a fresh directory where the packed tarball of
// openai-resilient and openai@7 are installed from the registry, never from this repository.
/* global console, process */
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { classify, isResilienceError, resilient, ResilienceError, DeadlineExceededError } from 'openai-resilient';
import { faults, startFaultServer } from 'openai-resilient/testing';

// openai-resilient/redis loads without the optional peer `redis`, which this consumer does not install.
await assert.rejects(import('redis'), { code: 'ERR_MODULE_NOT_FOUND' }, 'redis must not be installed here');
const { createRedisState, RedisState, RedisCacheStore } = await import('openai-resilient/redis');
assert.throws(() => createRedisState({}), TypeError, 'createRedisState rejects what is not a client');
// A stand-in client (any RedisClientLike): every Lua script answers [0, 0, 0], i.e. circuit closed, no
// shared rate limit known yet.
const scripts = [];
const fakeRedis = {
  isReady: true,
  on() {},
  async evalSha(sha1, { keys }) {
    scripts.push(keys[0]);
    return [0, 0, 0];
  },
  async eval() {
    throw new Error('not reached: evalSha never says NOSCRIPT here');
  },
};
const shared = createRedisState(fakeRedis, { prefix: 'consumer:' });
assert.ok(shared instanceof RedisState && shared.cacheStore instanceof RedisCacheStore);
assert.deepEqual(await shared.circuitAdmit('gpt-4.1-mini', 1), { state: 'closed' });

const messages = [{ role: 'user', content: 'hi' }];
const server = await startFaultServer();
try {
  // 1. A 503, then a success: one retry, two requests, and the client is still an OpenAI.
  server.enqueue(faults.overloaded(), faults.ok());
  const ai = resilient(new OpenAI({ apiKey: 'k', baseURL: server.url }), { retry: { initialDelay: 1 } });
  assert.ok(ai instanceof OpenAI, 'resilient(client) instanceof OpenAI');
  const completion = await ai.chat.completions.create({ model: 'gpt-4.1-mini', messages });
  assert.equal(completion.choices[0].message.content, 'ok');
  assert.equal(server.requests.length, 2, 'two requests: the 503 and the retry');
  assert.equal(ai.resilience.stats().total.retries, 1);

  // 2. An upstream failure that is not retried reaches the caller as the SDK's own error.
  server.enqueue(faults.badRequest());
  const badRequest = await ai.chat.completions.create({ model: 'gpt-4.1-mini', messages }).catch((e) => e);
  assert.ok(badRequest instanceof OpenAI.BadRequestError, 'the SDK error class of the consumer');
  assert.deepEqual([classify(badRequest).kind, classify(badRequest).action], ['bad_request', 'fail']);

  // 3. A failure of the library's own: a deadline over a stalled request.
  server.enqueue(faults.stall());
  const quick = resilient(new OpenAI({ apiKey: 'k', baseURL: server.url }), { retry: false, timeout: { total: 50 } });
  const deadline = await quick.chat.completions.create({ model: 'gpt-4.1-mini', messages }).catch((e) => e);
  assert.ok(deadline instanceof DeadlineExceededError, `DeadlineExceededError, got ${deadline}`);
  assert.ok(deadline instanceof ResilienceError && isResilienceError(deadline));
  assert.ok(deadline instanceof OpenAI.OpenAIError, 'ResilienceError extends the SDK OpenAIError');
  assert.equal(classify(deadline).kind, 'deadline_exceeded');

  // 4. Shared state (openai-resilient/redis) consulted by a call.
  const before = scripts.length;
  const sharedAi = resilient(new OpenAI({ apiKey: 'k', baseURL: server.url }), { shared });
  const viaShared = await sharedAi.chat.completions.create({ model: 'gpt-4.1-mini', messages });
  assert.equal(viaShared.choices[0].message.content, 'ok');
  assert.ok(scripts.length > before, 'the call ran Lua scripts on the shared state');
  assert.ok(scripts.every((key) => key.startsWith('consumer:')), `keys carry the prefix: ${scripts.join(', ')}`);

  // 5. Without the optional peer gpt-tokenizer (not installed here): the default `tokens: 'auto'` counts
  //    by the estimate, silently; openai-resilient/tokens needs it and says so.
  await assert.rejects(import('gpt-tokenizer/encoding/o200k_base'), { code: 'ERR_MODULE_NOT_FOUND' }, 'gpt-tokenizer must not be installed here');
  await assert.rejects(import('openai-resilient/tokens'), (error) => error.code === 'ERR_MODULE_NOT_FOUND' && /gpt-tokenizer/.test(error.message));
  // 'お誕生日おめでとう' ×40 is 360 characters: 91 tokens by the estimate (with 'user'), 327 exactly.
  const counted = resilient(new OpenAI({ apiKey: 'k', baseURL: server.url }), { contextWindows: { 'gpt-4.1-mini': 200 } });
  const longMessages = [{ role: 'user', content: 'お誕生日おめでとう'.repeat(40) }];
  assert.equal((await counted.chat.completions.create({ model: 'gpt-4.1-mini', messages: longMessages })).choices[0].message.content, 'ok');

  // 6. A stream.
  const stream = await ai.chat.completions.create({ model: 'gpt-4.1-mini', messages, stream: true });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  assert.ok(text.length > 0, 'streamed some content');
} finally {
  await server.close();
}
console.log(`esm consumer: ok (${server.requests.length} requests, ${scripts.length} shared-state scripts)`);
process.exitCode = 0;
