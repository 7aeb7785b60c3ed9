import { createHash } from 'node:crypto';
import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { cacheKey, type CacheScope } from '../../src/cache/cache-key.js';
import { canonicalJson, NotPlainDataError, sha256Hex } from '../../src/core/fingerprint.js';
import type { CacheMissEvent } from '../../src/index.js';
import { chatParams, harness } from '../support/harness.js';

type ChatParams = OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming;
type RequestOptions = OpenAI.RequestOptions;

const base: ChatParams = { ...chatParams, temperature: 0 };

/** Two calls, as params and request options. */
type Call = [params: ChatParams, options?: RequestOptions];

async function keyed() {
  const h = await harness({ cache: true });
  const misses: CacheMissEvent[] = [];
  h.ai.resilience.on('cacheMiss', (event) => misses.push(event));
  const call = ([params, options]: Call) => h.ai.chat.completions.create(params, options);
  return { ...h, misses, call, chats: () => h.server.requestsTo('/chat/completions').length };
}

describe('the cache key changes with everything that changes the answer', () => {
  const tool: OpenAI.Chat.Completions.ChatCompletionTool = {
    type: 'function',
    function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } },
  };
  it.each<[string, Call, Call]>([
    ['message content', [base], [{ ...base, messages: [{ role: 'user', content: 'Say no' }] }]],
    ['message role', [base], [{ ...base, messages: [{ role: 'system', content: 'Say ok' }] }]],
    ['an extra message', [base], [{ ...base, messages: [...base.messages, { role: 'assistant', content: 'ok' }] }]],
    ['message order', [{ ...base, messages: [{ role: 'user', content: 'a' }, { role: 'user', content: 'b' }] }],
      [{ ...base, messages: [{ role: 'user', content: 'b' }, { role: 'user', content: 'a' }] }]],
    ['model', [base], [{ ...base, model: 'gpt-4.1' }]],
    ['tools', [base], [{ ...base, tools: [tool] }]],
    ['a tool schema', [{ ...base, tools: [tool] }],
      [{ ...base, tools: [{ ...tool, function: { ...tool.function, parameters: { type: 'object', properties: {} } } }] }]],
    ['tool_choice', [{ ...base, tools: [tool] }], [{ ...base, tools: [tool], tool_choice: 'required' }]],
    ['response_format', [base], [{ ...base, response_format: { type: 'json_object' } }]],
    ['seed', [{ ...base, seed: 1 }], [{ ...base, seed: 2 }]],
    ['temperature (0 vs unset, both with a seed)', [{ ...chatParams, seed: 1 }], [{ ...chatParams, seed: 1, temperature: 0 }]],
    ['temperature (0 vs 0.5, both with a seed)', [{ ...chatParams, seed: 1, temperature: 0.5 }], [{ ...chatParams, seed: 1, temperature: 0 }]],
    ['reasoning_effort', [base], [{ ...base, reasoning_effort: 'low' }]],
    ['reasoning_effort value', [{ ...base, reasoning_effort: 'low' }], [{ ...base, reasoning_effort: 'high' }]],
    ['max_tokens', [base], [{ ...base, max_tokens: 5 }]],
    ['max_completion_tokens', [{ ...base, max_completion_tokens: 5 }], [{ ...base, max_completion_tokens: 6 }]],
    ['top_p', [base], [{ ...base, top_p: 0.5 }]],
    ['stop', [base], [{ ...base, stop: ['\n'] }]],
    ['n', [base], [{ ...base, n: 2 }]],
    ['logit_bias', [base], [{ ...base, logit_bias: { '50256': -100 } }]],
    ['metadata', [base], [{ ...base, metadata: { purpose: 'test' } }]],
    ['user', [base], [{ ...base, user: 'u-1' }]],
    ['an unknown body field (via `body`)', [base], [base, { body: { ...base, some_future_field: true } }]],
    ['an unknown body field (in params)', [base], [{ ...base, ...({ some_future_field: 1 } as object) }]],
    ['a per-request query', [base], [base, { query: { 'api-version': '2025-01-01' } }]],
    ['a per-request query value', [base, { query: { a: '1' } }], [base, { query: { a: '2' } }]],
    ['a per-request header', [base], [base, { headers: { 'OpenAI-Beta': 'x' } }]],
  ])('%s', async (_name, a, b) => {
    const { call, chats, misses } = await keyed();
    const first = await call(a);
    const second = await call(b);
    expect(second.id).not.toBe(first.id);
    expect(chats()).toBe(2);
    expect(misses[1]!.key).not.toBe(misses[0]!.key);
    // Both were stored, each under its own key.
    expect((await call(a)).id).toBe(first.id);
    expect((await call(b)).id).toBe(second.id);
    expect(chats()).toBe(2);
  });
});

describe('the cache key ignores what does not change the answer', () => {
  it.each<[string, Call, Call]>([
    ['the order of body keys', [base], [{ temperature: 0, messages: [{ content: 'Say ok', role: 'user' }], model: 'gpt-4.1-mini' }]],
    ['the order of nested keys', [{ ...base, response_format: { type: 'json_schema', json_schema: { name: 'n', strict: true, schema: { type: 'object', properties: {} } } } }],
      [{ ...base, response_format: { json_schema: { schema: { properties: {}, type: 'object' }, strict: true, name: 'n' }, type: 'json_schema' } }]],
    ['undefined members', [base], [{ ...base, max_tokens: undefined, tools: undefined, user: undefined }]],
    ['undefined nested members', [base], [{ ...base, messages: [{ role: 'user', content: 'Say ok', name: undefined }] }]],
    ['the order of query keys', [base, { query: { a: '1', b: '2' } }], [base, { query: { b: '2', a: '1' } }]],
    ['the order of header names', [base, { headers: { 'x-a': '1', 'x-b': '2' } }], [base, { headers: { 'x-b': '2', 'x-a': '1' } }]],
    ['the signal, timeout and maxRetries', [base], [base, { signal: new AbortController().signal, timeout: 5000, maxRetries: 1 }]],
  ])('%s', async (_name, a, b) => {
    const { call, chats, misses } = await keyed();
    const first = await call(a);
    const second = await call(b);
    expect(second.id).toBe(first.id);
    expect(chats()).toBe(1);
    expect(misses).toHaveLength(1);
  });
});

describe('canonicalJson', () => {
  it('sorts object keys at every depth', () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: [3, { f: 1, e: 2 }] } })).toBe('{"a":{"c":[3,{"e":2,"f":1}],"d":2},"b":1}');
    expect(canonicalJson({ b: 1, a: 2 })).toBe(canonicalJson({ a: 2, b: 1 }));
  });

  it('drops undefined members, as JSON.stringify does', () => {
    expect(canonicalJson({ a: undefined, b: 1, c: { d: undefined } })).toBe('{"b":1,"c":{}}');
    expect(canonicalJson({ a: undefined })).toBe(canonicalJson({}));
  });

  it('keeps arrays in order (undefined items as null)', () => {
    expect(canonicalJson([2, 1, 'x'])).toBe('[2,1,"x"]');
    expect(canonicalJson([2, 1])).not.toBe(canonicalJson([1, 2]));
    expect(canonicalJson([undefined, 1])).toBe(JSON.stringify([undefined, 1]));
  });

  it('serialises primitives like JSON, escaping strings and keys', () => {
    expect(canonicalJson(null)).toBe('null');
    expect(canonicalJson(true)).toBe('true');
    expect(canonicalJson(1.5)).toBe('1.5');
    expect(canonicalJson('a"b\n')).toBe(JSON.stringify('a"b\n'));
    expect(canonicalJson({ 'k"ey': 1 })).toBe('{"k\\"ey":1}');
    expect(canonicalJson(undefined)).toBe('null');
    const sample = { model: 'm', messages: [{ content: 'é ✓ 𝄞', role: 'user' }], temperature: 0 };
    expect(JSON.parse(canonicalJson(sample))).toEqual(sample);
  });

  it('does not confuse a string with the value it looks like', () => {
    expect(canonicalJson({ a: '1' })).not.toBe(canonicalJson({ a: 1 }));
    expect(canonicalJson({ a: 'null' })).not.toBe(canonicalJson({ a: null }));
    expect(canonicalJson(['a,b'])).not.toBe(canonicalJson(['a', 'b']));
  });

  it('accepts null-prototype objects', () => {
    const record = Object.assign(Object.create(null) as Record<string, unknown>, { b: 2, a: 1 });
    expect(canonicalJson(record)).toBe('{"a":1,"b":2}');
  });

  it.each<[string, () => unknown]>([
    ['a Date', () => new Date(0)],
    ['a Map', () => new Map()],
    ['a Blob', () => new Blob(['x'])],
    ['a Uint8Array', () => new Uint8Array([1])],
    ['a FormData', () => new FormData()],
    ['a ReadableStream', () => new ReadableStream()],
    ['a Headers', () => new Headers()],
    ['a class instance', () => new (class Thing {})()],
    ['a function', () => () => 1],
    ['a bigint', () => 1n],
    ['a symbol', () => Symbol('s')],
    ['a Blob nested in an array in an object', () => ({ input: [{ file: new Blob(['x']) }] })],
  ])('throws NotPlainDataError on %s', (_name, make) => {
    expect(() => canonicalJson(make())).toThrow(NotPlainDataError);
  });
});

describe('cacheKey', () => {
  const scope: CacheScope = {
    baseURL: 'https://api.openai.com/v1',
    organization: 'org-1',
    project: null,
    keyFingerprint: 'f'.repeat(64),
    defaults: { headers: null, query: null },
    tenant: undefined,
  };
  const request = { method: 'POST', path: '/chat/completions', query: undefined, body: { model: 'm', temperature: 0 }, headers: undefined };

  it('is the hex SHA-256 of the canonical request and scope', async () => {
    const key = await cacheKey(request, scope);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    const expected = createHash('sha256').update(canonicalJson({ v: 1, ...request, scope })).digest('hex');
    expect(key).toBe(expected);
    expect(await cacheKey({ ...request, body: { temperature: 0, model: 'm' } }, { ...scope })).toBe(key);
  });

  it('sha256Hex matches a known digest', async () => {
    expect(await sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(await sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    // Text is hashed as UTF-8, as WebCrypto hashes TextEncoder's bytes in browsers.
    const text = 'héllo 世界 🎉';
    const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
    expect(await sha256Hex(text)).toBe(Buffer.from(digest).toString('hex'));
  });

  it.each<[string, Partial<CacheScope>]>([
    ['baseURL', { baseURL: 'https://example.com/v1' }],
    ['organization', { organization: 'org-2' }],
    ['organization (absent)', { organization: null }],
    ['project', { project: 'proj-1' }],
    ['key fingerprint', { keyFingerprint: 'e'.repeat(64) }],
    ['default headers', { defaults: { headers: { 'OpenAI-Beta': 'x' }, query: null } }],
    ['default query', { defaults: { headers: null, query: { 'api-version': '1' } } }],
    ['tenant', { tenant: 'acme' }],
  ])('changes with the scope: %s', async (_name, change) => {
    expect(await cacheKey(request, { ...scope, ...change })).not.toBe(await cacheKey(request, scope));
  });

  it.each<[string, Partial<typeof request> | Record<string, unknown>]>([
    ['method', { method: 'GET' }],
    ['path', { path: '/responses' }],
    ['query', { query: { a: '1' } }],
    ['body', { body: { model: 'm', temperature: 0, seed: 1 } }],
    ['headers', { headers: { 'x-a': '1' } }],
  ])('changes with the request: %s', async (_name, change) => {
    expect(await cacheKey({ ...request, ...change }, scope)).not.toBe(await cacheKey(request, scope));
  });

  it('rejects with NotPlainDataError for a body that is not plain data', async () => {
    await expect(cacheKey({ ...request, body: new FormData() }, scope)).rejects.toBeInstanceOf(NotPlainDataError);
  });

  it('the API key is not part of the key material, only its fingerprint', async () => {
    const material = canonicalJson({ v: 1, ...request, scope: { ...scope, keyFingerprint: await sha256Hex('openai-resilient:sk-secret') } });
    expect(material).not.toContain('sk-secret');
  });
});

describe('requests that cannot be keyed', () => {
  it('a request with a non-plain body is sent, never cached', async () => {
    const { server, ai } = await harness({ cache: { cacheable: () => true } });
    const file = new File(['{}'], 'data.jsonl', { type: 'application/jsonl' });
    await ai.files.create({ file, purpose: 'batch' });
    await ai.files.create({ file, purpose: 'batch' });
    expect(server.requestsTo('/files')).toHaveLength(2);
  });
});
