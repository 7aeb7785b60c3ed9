import { eventStreamResponse, SOURCE_HEADER, syntheticProps } from '../responses/synthetic-response.js';
import type { SdkRequestOptions } from '../core/request-info.js';
import type { CachedResponse } from './cache-store.js';
import { BufferedResponse } from '../responses/buffered-response.js';
import { ReplayedHeaders } from './replayed-headers.js';
import { relayBody } from '../responses/relayed-response.js';
import { hasErrorMember } from '../classify/error-payload.js';
import { isHtml, isJsonMediaType, mediaTypeOf } from '../responses/media-type.js';
import { eventName, roleOf } from '../responses/event-role.js';
import { SseScanner } from '../responses/sse-scanner.js';
import { Utf8Chunks } from '../responses/utf8-chunks.js';
import type { ResponseProps } from '../core/response-props.js';

/** Headers that describe the bytes on the wire, not the response: not kept. */
const WIRE_HEADERS = new Set(['content-length', 'content-encoding', 'transfer-encoding', 'connection', 'keep-alive', 'date']);

function keptHeaders(headers: Headers): Array<[string, string]> {
  return [...headers].filter(([name]) => !WIRE_HEADERS.has(name) && name !== SOURCE_HEADER);
}

/**
 * A complete JSON (or text) response as a cache record, or `undefined` when it is not a real answer and
 * must never be stored: an empty body, JSON with a truthy `error` member (an error payload, or an answer
 * describing a failure, such as a failed Responses API response), an HTML page, or a body that is neither
 * JSON nor text.
 */
export async function recordBody(response: Response, storedAt: number, ttl: number): Promise<CachedResponse | undefined> {
  const body = await response.clone().text();
  if (!isAnswer(mediaTypeOf(response.headers), body)) return undefined;
  return { status: response.status, headers: keptHeaders(response.headers), body, stream: false, storedAt, expiresAt: storedAt + ttl };
}

function isAnswer(mediaType: string, body: string): boolean {
  if (body === '' || isHtml(mediaType, body)) return false;
  if (isJsonMediaType(mediaType)) return !hasErrorMember(body);
  // A transcription as `text`, `srt` or `vtt`; not an event stream answering a request that asked for none.
  return mediaType.startsWith('text/') && mediaType !== 'text/event-stream';
}

/** Terminal events that end a stream without a whole answer: never stored. */
const UNFINISHED = new Set(['response.failed', 'response.incomplete']);

/**
 * Passes a stream through to the caller while recording it; `store` receives the record only if its
 * events reached a terminal event (`[DONE]`, the Responses API's `response.completed`...) with no error
 * event before it (any event the SDK raises as an `APIError`: see `roleOf`), and it stayed under
 * `maxBytes`. The events decide, not the way the body ended:
 * the SDK cancels the body once it has read `[DONE]`, and some servers (vLLM, LiteLLM) send `[DONE]`
 * after an error event. A stream that failed, was cut short or was left before its end is never stored.
 */
export function recordStream(
  response: Response,
  maxBytes: number,
  now: () => number,
  ttl: number,
  store: (record: CachedResponse) => void,
): Response {
  const decoder = new Utf8Chunks();
  const scanner = new SseScanner();
  let text = '';
  let tooLarge = false;
  let failed = false;
  let complete = false;
  return relayBody(response, {
    chunk(bytes) {
      if (tooLarge || failed || complete) return;
      text += decoder.decode(bytes);
      if (text.length * 2 > maxBytes) {
        tooLarge = true;
        text = '';
        return;
      }
      for (const event of scanner.push(bytes)) {
        const role = roleOf(event);
        if (role === 'error' || (role === 'terminal' && UNFINISHED.has(eventName(event) ?? ''))) failed = true;
        else if (role === 'terminal') complete = true;
        if (failed || complete) return;
      }
    },
    end() {
      if (!complete || failed || tooLarge) return;
      text += decoder.flush();
      const storedAt = now();
      store({ status: response.status, headers: keptHeaders(response.headers), body: text, stream: true, storedAt, expiresAt: storedAt + ttl });
    },
  });
}

/**
 * A cache record as props for the SDK's own parsing: a fresh object, or a real `Stream`, every time. A
 * JSON body is parsed here, once per hit, and handed to the SDK's parsing step as an attempt's is (see
 * `client/parse-in-memory.ts`): each caller gets an object of its own, never one the cache holds.
 */
export function replay(record: CachedResponse, options: SdkRequestOptions, source: 'cache' | 'cache-stale'): ResponseProps {
  if (record.stream) return syntheticProps(eventStreamResponse(record.body, source, record.headers as Array<[string, string]>), options, source);
  const headers = new ReplayedHeaders(record.headers, [SOURCE_HEADER, source]);
  const json = isJsonMediaType(mediaTypeOf(headers)) ? parsedOrUndefined(record.body) : undefined;
  return syntheticProps(new BufferedResponse(record.body, json, { status: record.status, headers }, ''), options, source);
}

/** `text` parsed, or `undefined` when it is not JSON (the SDK's own parse then fails as it would have). */
function parsedOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
