// TypeScript consumer (ES module): type-checked with skipLibCheck false and run by .ci/consumers.sh
// under `moduleResolution` nodenext, node16 and bundler (see ../ts-*/tsconfig.json), against the
// packed tarball. Copied into each consumer directory as index.ts.
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import {
  classify,
  isResilienceError,
  resilient,
  DeadlineExceededError,
  ResilienceError,
  type Classification,
  type ErrorKind,
  type ResilienceOptions,
  type ResilienceStats,
  type ResilientClient,
} from 'openai-resilient';
import { faults, startFaultServer, type FaultServer } from 'openai-resilient/testing';
import { instrument, type InstrumentOptions } from 'openai-resilient/otel';
import { createRedisState, RedisState, type RedisClientLike, type RedisStateOptions } from 'openai-resilient/redis';
import { createClient } from 'redis';
import { countTokens, tokenizer, type Tokenizer } from 'openai-resilient/tokens';
import { openaiPrices, type ModelPrice } from 'openai-resilient/prices';

// Type-level checks: these fail to compile if the published declarations are wrong.
const options: ResilienceOptions = { retry: { initialDelay: 1 }, timeout: { total: 10_000 } };
// @ts-expect-error unknown options are compile errors
const _unknownOption: ResilienceOptions = { retries: 3 };
const otelOptions: InstrumentOptions = {};
const redisOptions: RedisStateOptions = { prefix: 'consumer:', timeout: 100 };
// @ts-expect-error unknown options are compile errors
const _unknownRedisOption: RedisStateOptions = { ttl: 1_000 };
// node-redis's client (the `redis` peer) is a RedisClientLike. Created, never connected: no socket is opened.
const redis = createClient({ url: 'redis://127.0.0.1:6379' });
const clientLike: RedisClientLike = redis;
const shared: RedisState = createRedisState(redis, redisOptions);
assert.equal(shared.ready, false);
assert.equal(createRedisState(clientLike).name, 'redis');
// openai-resilient/tokens with gpt-tokenizer (the optional peer) installed: exact counts, then a pre-flight on them.
const exactTokenizer: Tokenizer = tokenizer;
// openai-resilient/prices with @pydantic/genai-prices (the optional peer) installed: OpenAI's prices.
const price: ModelPrice | undefined = openaiPrices['gpt-4o-mini'];
assert.ok(price && price.input > 0 && price.output > 0);
// 'お誕生日おめでとう' ×40 in o200k_base: 8 tokens each, plus 3 + 1 ('user') + 3.
assert.equal(countTokens({ messages: [{ role: 'user', content: 'お誕生日おめでとう'.repeat(40) }] }, 'gpt-4.1-mini').input, 327);

const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [{ role: 'user', content: 'hi' }];
const server: FaultServer = await startFaultServer();
try {
  server.enqueue(faults.overloaded(), faults.ok());
  const ai: ResilientClient<OpenAI> = resilient(new OpenAI({ apiKey: 'k', baseURL: server.url }), options);
  assert.ok(ai instanceof OpenAI);
  const completion: OpenAI.Chat.ChatCompletion = await ai.chat.completions.create({ model: 'gpt-4.1-mini', messages });
  assert.equal(completion.choices[0]?.message.content, 'ok');
  assert.equal(server.requests.length, 2);
  const stats: ResilienceStats = ai.resilience.stats();
  assert.equal(stats.total.retries, 1);

  const stop: () => void = instrument(ai, otelOptions);
  stop();

  // The shared state and its cache store go in the options as the README shows.
  const sharedAi: ResilientClient<OpenAI> = resilient(new OpenAI({ apiKey: 'k', baseURL: server.url }), { shared, cache: { store: shared.cacheStore } });
  assert.ok(sharedAi instanceof OpenAI);

  // Counted exactly, the long message is over a 200-token window the estimate (91) would let it through.
  const exact = resilient(new OpenAI({ apiKey: 'k', baseURL: server.url }), { contextWindows: { 'gpt-4.1-mini': 200 }, tokens: { tokenizer: exactTokenizer } });
  const over: unknown = await exact.chat.completions.create({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'お誕生日おめでとう'.repeat(40) }] }).catch((e: unknown) => e);
  assert.equal(classify(over).kind, 'context_length_exceeded');

  server.enqueue(faults.stall());
  const quick = resilient(new OpenAI({ apiKey: 'k', baseURL: server.url }), { retry: false, timeout: { total: 50 } });
  const error: unknown = await quick.chat.completions.create({ model: 'gpt-4.1-mini', messages }).catch((e: unknown) => e);
  assert.ok(error instanceof DeadlineExceededError);
  const base: ResilienceError = error;
  assert.ok(isResilienceError(base));
  const classification: Classification = classify(error);
  const kind: ErrorKind = classification.kind;
  assert.equal(kind, 'deadline_exceeded');
} finally {
  await server.close();
}
console.log(`typescript consumer: ok (${server.requests.length} requests)`);
