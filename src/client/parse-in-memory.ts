import { BufferedResponse, NOT_PARSED } from '../responses/buffered-response.js';
import type { ResponseProps } from '../core/response-props.js';
import type { SdkClientInternals } from '../core/sdk-internals.js';

type SdkParse = NonNullable<SdkClientInternals['parseResponseWithTimeout']>;

/**
 * The client's parsing step (`sdkParse`, the SDK's own) made to hand the SDK the JSON body the attempt has
 * already parsed, instead of letting it parse the same text again. The transport reads and parses every JSON answer inside the attempt (so that a broken body is
 * retried, see `pipeline/transport.ts`) and hands it over as a `BufferedResponse`. openai 5, 6 and 7.0
 * read it with `response.json()`, which that response answers with the parsed body; later 7 releases read
 * `response.text()` and parse it themselves, under a timer that bounds the reading of the body. For those,
 * the client's parsing step answers with the parsed body when the response holds one: what the SDK would
 * have built from the text (the same value, with its `_request_id`), without a second parse and a timer:
 * about 20 µs less per embedding of 1 536 dimensions, a few µs per chat call (`npm run bench overhead`).
 * The body was read under the attempt's own limits, so there is nothing left to time.
 *
 * Each parsed body is a new object made by one attempt and taken once (the response's body then counts as
 * read), so no two callers ever share it; the cache keeps the text, never this object. Everything else
 * goes through the SDK's own step: a stream, a binary body, a response without a parsed body (a cache
 * hit, a fallback value), a call its caller has aborted (the SDK then rejects it), and any call while the
 * client logs at `debug` (the SDK logs the body it parsed).
 */
export function parsingInMemory(sdkParse: SdkParse | undefined): SdkParse | undefined {
  if (typeof sdkParse !== 'function') return undefined;
  return async function parseResponseWithTimeout(this: SdkClientInternals, client: unknown, props: ResponseProps) {
    if (this.logLevel !== 'debug' && !props.options.signal?.aborted) {
      const json = BufferedResponse.takeJson(props.response);
      if (json !== NOT_PARSED) return withRequestId(json, props.response);
    }
    return sdkParse.call(this, client, props);
  };
}

/** `value` with the SDK's non-enumerable `_request_id` (the answer's `x-request-id`), as the SDK adds it to an object. */
function withRequestId(value: unknown, response: Response): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.defineProperty(value, '_request_id', { value: response.headers.get('x-request-id'), enumerable: false });
}
