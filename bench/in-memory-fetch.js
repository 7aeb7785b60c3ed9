// The "in-memory fetch" of the overhead, cache, outage and memory cases: a prebuilt answer returned at
// once, no socket, no request parsing, no bookkeeping. Unlike createFaultFetch() (which builds a Request
// and records every call), it costs next to nothing, so what is measured is the SDK and our layer.
import OpenAI from 'openai';
import { chatCompletion, chatStreamPlan, embeddingList, errorBody } from '../dist/testing/index.js';
import { recordBody, replay } from '../dist/cache/cache-record.js';
import { parsingInMemory } from '../dist/client/parse-in-memory.js';

/**
 * The headers of a real OpenAI answer (ids and values made up, names and sizes as sent): the SDK reads
 * and iterates them on every call (it lists them all to log the request id), and so does our layer (the
 * rate limiter reads `x-ratelimit-*`, the cache keeps them), so an answer with one header would make both
 * look cheaper than they are. The limits are a high tier's; the benches that must never wait configure
 * limits above them.
 */
const OPENAI_HEADERS = {
  date: 'Sun, 22 Nov 2026 14:00:00 GMT',
  'access-control-expose-headers': 'X-Request-ID',
  'openai-organization': 'user-0123456789abcdefghijklmn',
  'openai-processing-ms': '412',
  'openai-project': 'proj_0123456789abcdefghijklmn',
  'openai-version': '2020-10-01',
  'x-envoy-upstream-service-time': '415',
  'x-ratelimit-limit-requests': '30000',
  'x-ratelimit-limit-tokens': '150000000',
  'x-ratelimit-remaining-requests': '29999',
  'x-ratelimit-remaining-tokens': '149999990',
  'x-ratelimit-reset-requests': '2ms',
  'x-ratelimit-reset-tokens': '0s',
  'x-request-id': 'req_0123456789abcdef0123456789abcdef',
  'strict-transport-security': 'max-age=31536000; includeSubDomains; preload',
  'cf-cache-status': 'DYNAMIC',
  'x-content-type-options': 'nosniff',
  server: 'cloudflare',
  'cf-ray': '8e0123456789abcd-FRA',
  'alt-svc': 'h3=":443"; ma=86400',
};
const CONTENT_TYPE_ONLY = { 'content-type': 'application/json' };
const JSON_HEADERS = { ...CONTENT_TYPE_ONLY, ...OPENAI_HEADERS };
const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', ...OPENAI_HEADERS };
const encoder = new TextEncoder();

/** A fetch answering every request with `body` (any JSON value), status 200. */
export function jsonFetch(body) {
  const text = JSON.stringify(body);
  return async () => new Response(text, { headers: JSON_HEADERS });
}

/** A fetch answering every request with the SSE `frames`, each one chunk of the body. */
export function sseFetch(frames) {
  const chunks = frames.map((frame) => encoder.encode(frame));
  return async () =>
    new Response(
      new ReadableStream({
        start(controller) {
          for (const chunk of chunks) controller.enqueue(chunk);
          controller.close();
        },
      }),
      { headers: SSE_HEADERS },
    );
}

/** A fetch failing every request with `status` and OpenAI's error body. */
export function failingFetch(status = 500) {
  const text = JSON.stringify(errorBody({ message: 'The server had an error while processing your request.', type: 'server_error', code: 'server_error', param: null }));
  return async () => new Response(text, { status, headers: JSON_HEADERS });
}

/**
 * A fetch answering each chat request with a completion of its own: `answer <n>` padded to `chars`
 * characters with `pad` (a CJK character makes V8 keep the body as a two-byte string).
 */
export function distinctChatFetch(chars, pad = 'x') {
  let n = 0;
  return async () => {
    const content = `answer ${++n} `.padEnd(chars, pad);
    // One header, as before answers carried real ones: the memory case measures bounds, and keeps its numbers.
    return new Response(JSON.stringify(chatCompletion({ id: `chatcmpl-${n}`, model: 'gpt-4.1-mini', content })), { headers: CONTENT_TYPE_ONLY });
  };
}

/** A bare SDK client on `fetch` (a base URL that cannot reach a real server). */
export const clientOn = (fetch, options = {}) => new OpenAI({ apiKey: 'sk-bench', baseURL: 'https://api.openai.test/v1', fetch, ...options });

/**
 * The SDK's own part of any cache hit answered at its request step (`makeRequest`, where this library
 * answers): a bare client whose every request is answered at once, before any fetch, with `body` recorded
 * and replayed by the cache's own code (the headers kept and marked, the body parsed, as a hit hands them
 * over), and the SDK's parsing step taking that parse as a resilient client's does. No key, no lookup, no
 * bookkeeping: no hit answered there can be faster than this.
 */
export async function answeredInMemory(body) {
  const client = clientOn(jsonFetch(body));
  const record = await recordBody(await jsonFetch(body)(), 0, Number.POSITIVE_INFINITY);
  client.makeRequest = async (options) => replay(record, await options, 'cache');
  const parse = parsingInMemory(client.parseResponseWithTimeout);
  if (parse) client.parseResponseWithTimeout = parse;
  return client;
}

/** Prebuilt upstream answers of the overhead and cache cases. */
export const BODIES = {
  chat: chatCompletion({ id: 'chatcmpl-bench', model: 'gpt-4.1-mini' }),
  /** Role chunk, `chunks` content chunks, finish chunk and `data: [DONE]`. */
  streamFrames(chunks) {
    const plan = chatStreamPlan({ id: 'chatcmpl-bench', model: 'gpt-4.1-mini', chunks });
    return [...plan.preamble, ...plan.content, ...plan.tail, plan.terminator];
  },
  /** One 1 536-dimension embedding, base64 (the SDK asks for base64 and decodes it). */
  embedding: embeddingList(1, 'text-embedding-3-small', { dimensions: 1536, base64: true }),
};
