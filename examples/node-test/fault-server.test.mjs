// Testing code that uses the OpenAI SDK with `node:test` and `openai-resilient/testing`.
//
// Imports the package by name, as an application would. Inside this repository the name resolves to
// the package itself (through the `exports` of package.json, i.e. to dist/), so build first:
//
//   npm run build && node --test examples/node-test/

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import OpenAI from 'openai';
import { resilient } from 'openai-resilient';
import { createFaultFetch, faults, startFaultServer } from 'openai-resilient/testing';

const messages = [{ role: 'user', content: 'Say ok' }];

test('fault server: a 429 with retry-after-ms is waited out, then the call succeeds', async (t) => {
  const server = await startFaultServer(); // http://127.0.0.1:<port>/v1
  t.after(() => server.close());
  const ai = resilient(new OpenAI({ apiKey: 'sk-test', baseURL: server.url, maxRetries: 0 }));

  // `noRetryHeaders`: only `retry-after-ms` is sent. By default the 429 also announces a tiny account
  // (x-ratelimit-limit-requests: 3, remaining: 0), which resilient()'s rate limiter learns and then
  // paces the next call to (about 20 s later).
  server.enqueue(faults.rateLimited({ retryAfterMs: 50, noRetryHeaders: true }));
  const started = performance.now();
  const completion = await ai.chat.completions.create({ model: 'gpt-4.1-mini', messages });

  assert.equal(completion.choices[0].message.content, 'ok');
  assert.equal(server.requests.length, 2);
  assert.ok(performance.now() - started >= 45, 'waited for retry-after-ms');
  assert.deepEqual(
    server.requests.map((r) => r.path),
    ['/chat/completions', '/chat/completions'],
  );
  assert.deepEqual(server.requests[1].body, { model: 'gpt-4.1-mini', messages });
});

test('fault fetch: a reset and a 500 are retried, no sockets involved', async () => {
  const faultFetch = createFaultFetch();
  const client = new OpenAI({ apiKey: 'sk-test', baseURL: 'https://api.openai.test/v1', fetch: faultFetch.fetch, maxRetries: 0 });
  const ai = resilient(client, { retry: { initialDelay: 5 } });
  const kinds = [];
  ai.resilience.on('retry', (event) => kinds.push(event.kind));

  faultFetch.enqueue(faults.reset(), faults.serverError(500));
  const completion = await ai.chat.completions.create({ model: 'gpt-4.1-mini', messages });

  assert.equal(completion.object, 'chat.completion');
  assert.equal(faultFetch.requests.length, 3);
  assert.deepEqual(kinds, ['connection', 'server_error']);
  await faultFetch.close();
});

test('fault fetch: a stream cut mid-way surfaces to the bare SDK', async () => {
  const faultFetch = createFaultFetch();
  const client = new OpenAI({ apiKey: 'sk-test', baseURL: 'https://api.openai.test/v1', fetch: faultFetch.fetch, maxRetries: 0 });

  faultFetch.enqueue(faults.stream({ dropAfter: 2 }));
  const stream = await client.chat.completions.create({ model: 'gpt-4.1-mini', messages, stream: true });
  let text = '';
  await assert.rejects(async () => {
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  }, { name: 'TypeError', message: 'terminated' });

  assert.equal(text, 'Hello world');
  assert.equal(faultFetch.openRequests, 0);
});
