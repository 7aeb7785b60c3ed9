/**
 * The {@link Fault} script language of the fault server: one scripted response per request.
 * Build faults with the `faults` helpers in `./faults.ts`.
 *
 * @module
 */

/** Respond with an HTTP error status and an OpenAI-shaped JSON error body. */
export interface ErrorFault {
  kind: 'error';
  status: number;
  code?: string | null;
  type?: string;
  message?: string;
  param?: string | null;
  /** Extra response headers (merged over the server's own). */
  headers?: Record<string, string>;
  /** Body sent verbatim instead of `{"error":{...}}` (strings are written as-is). */
  body?: unknown;
}

/** Destroy the socket without sending anything: the client sees a connection error. */
export interface ResetFault {
  kind: 'reset';
}

/** Read the request and never answer; the socket stays open until the client aborts or the server closes. */
export interface StallFault {
  kind: 'stall';
}

/** Wait `ms` real milliseconds, then behave as `then`. */
export interface DelayFault {
  kind: 'delay';
  ms: number;
  then: Fault;
}

/**
 * An explicit success. Without `body`, the route's default success is used (for a request with
 * `stream: true` on a streaming route, that is the default stream).
 */
export interface OkFault {
  kind: 'ok';
  body?: unknown;
  headers?: Record<string, string>;
  /** HTTP status, default 200. */
  status?: number;
}

/**
 * The error payload sent in-band by {@link StreamOptions.errorAfter}. Responses API error events carry
 * no `type` (the event's own `type` is `error`), so `type` only applies to chat streams.
 */
export interface StreamErrorPayload {
  message?: string;
  type?: string;
  /** OpenAI's codes are strings; OpenRouter sends the HTTP status it means as a number (`502`). */
  code?: string | number | null;
  param?: string | null;
}

/**
 * Options of a streaming success. "Content chunks" are the text deltas (`Hello`, ` world`, `!`, ...);
 * the opening events (the chat chunk carrying the role; `response.created`, `response.in_progress`,
 * `response.output_item.added`, `response.content_part.added`) are always sent first.
 */
export interface StreamOptions {
  /** Number of content chunks, default 3. */
  chunks?: number;
  /**
   * The answer's text deltas: `'default'` (`Hello`, ` world`, `!`, then ` more` for every extra chunk),
   * or `'numbered'` (`w1`, ` w2`, ` w3`...: all different, so that a span repeated or left out at a
   * seam shows). A chat request continuing a partial answer (its last message an assistant message, as
   * `streaming.continuation` sends it) gets the rest of this answer after that prefix: its content
   * chunks are the ones left, and `chunks` still counts the whole answer.
   * @default 'default'
   */
  words?: 'default' | 'numbered';
  /** Real milliseconds to wait between content chunks, default 0. */
  intervalMs?: number;
  /** Send this many content chunks, then hold the socket open silently (until abort or close). */
  stallAfter?: number;
  /** Send this many content chunks, then destroy the socket abruptly (no terminating chunk). */
  dropAfter?: number;
  /** Send this many content chunks, then an in-band SSE error event, then end the response. */
  errorAfter?: number;
  /**
   * Send this many events (SSE frames of any kind: opening events, content chunks, `*.done` events, the
   * terminator), counted on this connection, then hold the socket open silently. Cuts between any two
   * events (e.g. `total - 1`: just before `response.completed`), where `stallAfter` counts content chunks.
   * @default undefined (no stall)
   */
  stallAfterEvents?: number;
  /**
   * Send this many events (as {@link StreamOptions.stallAfterEvents} counts them), then destroy the socket.
   * `0` cuts right after the 200 and its headers.
   * @default undefined (no cut)
   */
  dropAfterEvents?: number;
  /**
   * Send this many events (as {@link StreamOptions.stallAfterEvents} counts them), then the in-band
   * error event of {@link StreamOptions.errorAfter}, then end the response.
   * @default undefined (no error)
   */
  errorAfterEvents?: number;
  /** Payload of the `errorAfter` event; defaults to a `server_error`. */
  error?: StreamErrorPayload;
  /**
   * How a chat stream's `errorAfter` event is framed: `openai` (default) `data: {"error":{...}}`, or
   * `openrouter`, a chunk carrying `error` (`code`, `message`) next to its `choices` (`finish_reason:
   * "error"`), as OpenRouter reports a failure during generation. Responses streams send an `error` event either way.
   */
  errorFormat?: 'openai' | 'openrouter';
  /** After the `errorAfter` event, send the stream's terminator (`data: [DONE]`, as vLLM and LiteLLM do) before ending. */
  doneAfterError?: boolean;
  /** Send everything except the terminator (`data: [DONE]` / `response.completed`), then end normally. */
  omitDone?: boolean;
  /** After the final event, keep the socket open instead of ending the response. */
  keepOpen?: boolean;
  /** Send the 200 headers only, then nothing. */
  stallBeforeFirstChunk?: boolean;
  /** Extra response headers. */
  headers?: Record<string, string>;
  /**
   * For a request creating a background response (`POST /responses` with `background: true`): how the
   * stored response's generation ends, whatever happens to this connection. The other options disturb
   * only this connection; a resume (`GET /responses/{id}?stream=true`) replays what was generated.
   * Ignored for other requests.
   * @default { outcome: 'completed' }
   */
  background?: BackgroundOptions;
}

/**
 * How a background response's generation ends ({@link StreamOptions.background}). The fault server
 * generates a background response at once and stores its events; `after` counts its content chunks.
 */
export interface BackgroundOptions {
  /**
   * - `completed`: every event, ending with `response.completed` (status `completed`);
   * - `failed`: `after` content chunks, then `response.failed` (status `failed`, with `error`);
   * - `cancelled`: `after` content chunks, then the response is cancelled server-side (status
   *   `cancelled`): streams end there, with no terminal event;
   * - `paused`: `after` content chunks, then generation waits (status `in_progress`); streams send what
   *   was generated and stay open until the response is cancelled (`POST /responses/{id}/cancel`),
   *   then end as for `cancelled`.
   * @default 'completed'
   */
  outcome?: 'completed' | 'failed' | 'cancelled' | 'paused';
  /**
   * Content chunks generated before the outcome (`failed`, `cancelled`, `paused`); capped at `chunks`.
   * @default 0
   */
  after?: number;
  /**
   * The `error` of a `failed` response (`response.error` in `response.failed` and in `GET
   * /responses/{id}`).
   * @default { code: 'server_error', message: 'The server had an error while processing your request. Sorry about that!' }
   */
  error?: { code?: string; message?: string };
}

/** A streaming (server-sent events) success for the route: chat completion chunks or Responses API events. */
export interface StreamFault extends StreamOptions {
  kind: 'stream';
}

/** One scripted response of the fault server. */
/**
 * A JSON success whose headers and first half of body arrive, then the body stalls (`then: 'stall'`)
 * or the socket is cut (`then: 'drop'`). Exercises body-read timeouts and resets mid-body.
 */
export interface PartialBodyFault {
  kind: 'partialBody';
  then: 'stall' | 'drop';
}

export type Fault = ErrorFault | ResetFault | StallFault | DelayFault | OkFault | StreamFault | PartialBodyFault;

/** Fields every error builder accepts to override its defaults. */
export interface ErrorOverrides {
  message?: string;
  code?: string | null;
  type?: string;
  param?: string | null;
  /** Extra headers merged over the builder's own (e.g. `{ 'x-should-retry': 'false' }`). */
  headers?: Record<string, string>;
  /** Shorthand for the `x-should-retry: true|false` header. */
  shouldRetry?: boolean;
  /** Replace the whole body (sent verbatim). */
  body?: unknown;
}

/** Options of {@link faults.rateLimited}. Each rate-limit header is only sent when its option is given. */
export interface RateLimitOptions extends Omit<ErrorOverrides, 'type'> {
  /** Sets `retry-after-ms`. */
  retryAfterMs?: number;
  /** Sets `retry-after` in seconds (takes precedence over `retryAfterDate`). */
  retryAfterSeconds?: number;
  /** Sets `retry-after` as an HTTP date. */
  retryAfterDate?: Date;
  /** Sets `x-ratelimit-reset-requests`, in OpenAI's duration format (`1s`, `6m0s`, `20ms`). */
  resetRequests?: string;
  /** Sets `x-ratelimit-reset-tokens`, in OpenAI's duration format. */
  resetTokens?: string;
  /** `x-ratelimit-limit-requests`, default 3. */
  limitRequests?: number;
  /** `x-ratelimit-remaining-requests`, default 0 for a requests limit, else 2. */
  remainingRequests?: number;
  /** `x-ratelimit-limit-tokens`, default 30000. */
  limitTokens?: number;
  /** `x-ratelimit-remaining-tokens`, default 0 for a tokens limit, else 29000. */
  remainingTokens?: number;
  /** Which limit was hit; also the error `type`, as OpenAI does. Default `requests`. */
  type?: 'requests' | 'tokens';
  /** Omit the default limit/remaining headers (headers of explicitly given options are still sent). */
  noRetryHeaders?: boolean;
  /** Model named in the message, default `gpt-4o`. */
  model?: string;
}
