import { eventStreamResponse, SOURCE_HEADER, syntheticProps } from '../pipeline/synthetic-response.js';
import type { SdkRequestOptions } from '../pipeline/request-info.js';
import type { ResponseProps } from '../pipeline/transport.js';
import type { CachedResponse } from './cache-store.js';
import { BufferedResponse } from '../pipeline/buffered-response.js';
import { relayBody } from '../pipeline/relayed-response.js';

/** Headers that describe the bytes on the wire, not the response: not kept. */
const WIRE_HEADERS = new Set(['content-length', 'content-encoding', 'transfer-encoding', 'connection', 'keep-alive', 'date']);

function keptHeaders(headers: Headers): Array<[string, string]> {
  return [...headers].filter(([name]) => !WIRE_HEADERS.has(name) && name !== SOURCE_HEADER);
}

/** A complete JSON (or text) response as a cache record. */
export async function recordBody(response: Response, storedAt: number, ttl: number): Promise<CachedResponse> {
  return {
    status: response.status,
    headers: keptHeaders(response.headers),
    body: await response.clone().text(),
    stream: false,
    storedAt,
    expiresAt: storedAt + ttl,
  };
}

/** A stream is complete when its terminal event arrived: `[DONE]`, or the Responses API's `response.completed`. */
function isComplete(events: string): boolean {
  return /^data: \[DONE\]\s*$/m.test(events) || /^event: response\.completed\s*$/m.test(events) || events.includes('"type":"response.completed"');
}

/**
 * Passes a stream through to the caller while recording it; `store` receives the record only if the
 * stream ended with its terminal event and stayed under `maxBytes`. A stream that failed, was cut
 * short or was cancelled is never stored.
 */
export function recordStream(
  response: Response,
  maxBytes: number,
  now: () => number,
  ttl: number,
  store: (record: CachedResponse) => void,
): Response {
  const decoder = new TextDecoder();
  let text = '';
  let tooLarge = false;
  return relayBody(response, {
    chunk(bytes) {
      if (tooLarge) return;
      text += decoder.decode(bytes, { stream: true });
      if (text.length * 2 > maxBytes) {
        tooLarge = true;
        text = '';
      }
    },
    end(complete) {
      if (!complete || tooLarge) return;
      text += decoder.decode();
      if (!isComplete(text)) return;
      const storedAt = now();
      store({ status: response.status, headers: keptHeaders(response.headers), body: text, stream: true, storedAt, expiresAt: storedAt + ttl });
    },
  });
}

/** A cache record as props for the SDK's own parsing: a fresh object, or a real `Stream`, every time. */
export function replay(record: CachedResponse, options: SdkRequestOptions, source: 'cache' | 'cache-stale'): ResponseProps {
  if (record.stream) return syntheticProps(eventStreamResponse(record.body, source, record.headers as Array<[string, string]>), options);
  const headers = new Headers();
  // One by one: `new Headers(entries)` checks the whole list as a sequence first, which costs twice as much.
  for (const [name, value] of record.headers) headers.append(name, value);
  headers.set(SOURCE_HEADER, source);
  return syntheticProps(new BufferedResponse(record.body, undefined, { status: record.status, headers }, ''), options);
}
