// CommonJS consumer smoke test: `require('openai-resilient')` of an ESM-only package, which Node.js
// >= 20.19 (and >= 22.12) loads without flags (require(esm)). Run by .ci/consumers.sh in a fresh
// directory where the packed tarball and openai@7 are installed.
//
// Note the two copies of the SDK in one process here: this file's `require('openai')` loads the SDK's
// CommonJS build, while openai-resilient (ESM) imports its ESM build. Errors of the library's own reach
// this file built on the CommonJS copy's OpenAIError, also through the SDK's stream helpers (which wrap
// any other error in a plain OpenAIError).
/* global require, console, process */
/* eslint-disable @typescript-eslint/no-require-imports */
'use strict';
const assert = require('node:assert/strict');
const OpenAI = require('openai').default;
const {
  classify,
  isResilienceError,
  partialOutputOf,
  resilient,
  ResilienceError,
  DeadlineExceededError,
  StreamIdleTimeoutError,
  StreamTruncatedError,
} = require('openai-resilient');
const { faults, startFaultServer } = require('openai-resilient/testing');

assert.equal(typeof require('openai-resilient/otel').instrument, 'function');
// openai-resilient/redis loads without the optional peer `redis`, which this consumer does not install.
assert.throws(() => require('redis'), { code: 'MODULE_NOT_FOUND' }, 'redis must not be installed here');
const { createRedisState, RedisState } = require('openai-resilient/redis');
const shared = createRedisState({ isReady: false, evalSha: async () => [0, 0, 0], eval: async () => [0, 0, 0] }, { prefix: 'cjs:' });
assert.ok(shared instanceof RedisState && shared.ready === false, 'createRedisState() from require()');
assert.equal(require('openai-resilient/package.json').name, 'openai-resilient');

const messages = [{ role: 'user', content: 'hi' }];

async function main() {
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

    // 2. An upstream failure that is not retried reaches the caller as the SDK's own error (of the
    //    consumer's CommonJS copy of the SDK).
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
    assert.equal(classify(deadline).kind, 'deadline_exceeded');
    assert.ok(deadline instanceof OpenAI.OpenAIError, 'built on the CommonJS copy of the SDK');

    // 3b. The same through the SDK's stream helpers, which pass only their own copy's OpenAIError through:
    //     a deadline in chat.completions.stream(), a stall and a truncation mid-stream.
    server.enqueue(faults.stall());
    const helperDeadline = await quick.chat.completions.stream({ model: 'gpt-4.1-mini', messages }).finalChatCompletion().catch((e) => e);
    assert.ok(helperDeadline instanceof DeadlineExceededError, `stream(): DeadlineExceededError, got ${helperDeadline}`);
    assert.equal(classify(helperDeadline).kind, 'deadline_exceeded');
    const streams = resilient(new OpenAI({ apiKey: 'k', baseURL: server.url }), { retry: false, timeout: { idle: 50 } });
    server.enqueue(faults.stream({ stallAfter: 1 }));
    const stall = await streams.chat.completions.stream({ model: 'gpt-4.1-mini', messages }).finalChatCompletion().catch((e) => e);
    assert.ok(stall instanceof StreamIdleTimeoutError && stall instanceof OpenAI.OpenAIError, `StreamIdleTimeoutError, got ${stall}`);
    assert.ok(isResilienceError(stall) && classify(stall).kind === 'timeout');
    server.enqueue(faults.stream({ omitDone: true }));
    const truncated = await streams.responses.stream({ model: 'gpt-4.1-mini', input: 'hi' }).finalResponse().catch((e) => e);
    assert.ok(truncated instanceof StreamTruncatedError && isResilienceError(truncated), `StreamTruncatedError, got ${truncated}`);
    assert.equal(partialOutputOf(truncated)?.text, 'Hello world!', 'partialOutputOf(): the text received before the truncation');
    assert.equal(partialOutputOf(stall)?.text, 'Hello', 'partialOutputOf(): the text received before the stall');

    // 4. A stream.
    const stream = await ai.chat.completions.create({ model: 'gpt-4.1-mini', messages, stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    assert.ok(text.length > 0, 'streamed some content');
  } finally {
    await server.close();
  }
  console.log(`cjs consumer: ok (${server.requests.length} requests)`);
}

main().then(
  () => { process.exitCode = 0; },
  (error) => { console.error(error); process.exitCode = 1; },
);
