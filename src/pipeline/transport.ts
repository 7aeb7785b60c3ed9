import { errorMemberOf } from '../classify/error-payload.js';
import { MalformedResponseError } from '../errors/malformed-response-error.js';
import { readBodyText, type BodyReadHooks } from './body-reader.js';
import { BufferedResponse } from '../responses/buffered-response.js';
import { isHtml, isJsonMediaType, mediaTypeOf } from '../responses/media-type.js';
import { keepUrl } from '../responses/response-url.js';
import type { SdkRequestOptions } from '../core/request-info.js';
import type { ResponseProps, SendOnce } from '../core/response-props.js';

/**
 * One attempt on the wire. The response is complete before the attempt counts as a success, so a
 * failure while reading it is retried like any other:
 * - a JSON or text body is read in full (bounded by the attempt's limit and, between two pieces of it, by
 *   `timeout.idle`; a connection lost mid-body is the SDK's `APIConnectionError`) and checked, then handed
 *   to the SDK as a fresh `Response`: an HTML page (a proxy's, a captive portal's) or JSON that is not JSON
 *   fails the attempt as a `MalformedResponseError`, and an answer that is an error payload where the
 *   API's answers never carry one (see {@link ERROR_FREE_ANSWERS}) as the SDK's `APIError`;
 * - a stream is held until its first meaningful event arrives; from then on it belongs to the caller
 *   and its failures are never replayed;
 * - binary bodies (`audio.speech`, `files.content`) are handed over as they arrive.
 */
export async function sendAttempt(
  send: SendOnce,
  options: SdkRequestOptions,
  hooks: TransportHooks,
): Promise<ResponseProps> {
  const props = await send(options);
  hooks.onHeaders(props.controller);
  if (options.stream) {
    const response = await hooks.guardStream(props.response, props.controller.signal);
    hooks.onResponse(response, undefined);
    return { ...props, response };
  }
  if (options.__binaryResponse) {
    hooks.onResponse(props.response, undefined);
    return props;
  }
  const text = await readBodyText(props.response, props.controller.signal, hooks.body);
  const { response, json } = checkedBody(props.response, text);
  const error = ERROR_FREE_ANSWERS.has(options.path) ? errorMemberOf(json) : undefined;
  if (error !== undefined) throw hooks.answerError(error, response);
  hooks.onResponse(response, json);
  return { ...props, response };
}

export interface TransportHooks {
  /** The headers arrived; `controller` is the SDK's request controller (aborting it ends the body). */
  readonly onHeaders: (controller: AbortController) => void;
  /** The response is complete (for a stream: its first chunk arrived); `json` is the parsed JSON body, if any. */
  readonly onResponse: (response: Response, json: unknown) => void;
  /**
   * Holds a stream until its first meaningful event and guards the rest (`streams/stream-guard.ts`);
   * `signal` is the SDK's request controller's.
   */
  readonly guardStream: (response: Response, signal: AbortSignal) => Promise<Response>;
  /** How a body that is not a stream is read: its silence limit, and the SDK's errors for a stall or a cut. */
  readonly body: BodyReadHooks;
  /** Makes the SDK's `APIError` of an answer whose JSON is an error payload (`error`: its `error` member). */
  readonly answerError: (error: unknown, response: Response) => Error;
}

/**
 * Endpoints whose answer never has an `error` member (a chat completion, a completion, an embedding list):
 * a 2xx whose JSON has a truthy one is an error payload, as OpenRouter answers a failure during generation.
 * It fails the attempt as the SDK's `APIError` for that payload, as the SDK raises it in a stream (no
 * status: classified by its `code` or `type`). Elsewhere an `error` member can be part of the answer (a
 * failed Responses API response, fine-tuning job or video): handed over as the SDK hands it over.
 */
const ERROR_FREE_ANSWERS = new Set(['/chat/completions', '/completions', '/embeddings']);

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/** The whole body `text` of `response`, checked (see {@link sendAttempt}) and handed over as a fresh `Response`. */
function checkedBody(response: Response, text: string): { response: Response; json: unknown } {
  const mediaType = mediaTypeOf(response.headers);
  if (isHtml(mediaType, text)) {
    throw new MalformedResponseError(
      `Response ${response.status} is an HTML page (${mediaType || 'no content-type'}, ${text.length} bytes), not an API answer.`,
      response,
    );
  }
  let json: unknown;
  if (text !== '' && isJsonMediaType(mediaType)) {
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new MalformedResponseError(
        `Response ${response.status} declared ${mediaType} but its body is not JSON (${text.length} bytes).`,
        response,
        error,
      );
    }
  }
  const init = { status: response.status, statusText: response.statusText, headers: response.headers };
  const copy = NULL_BODY_STATUSES.has(response.status)
    ? keepUrl(new Response(null, init), response.url)
    : new BufferedResponse(text, json, init, response.url);
  return { response: copy, json };
}
