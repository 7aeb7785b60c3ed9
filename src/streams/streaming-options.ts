import type { ContinuationOption } from './continuation/continuation-options.js';

/** How streams end. */
export interface StreamingOptions {
  /**
   * A stream that ends without its terminal event (`[DONE]`, `response.completed`) is cut short:
   * `'error'` makes the caller's iteration throw `StreamTruncatedError`; `'end'` ends it quietly (a
   * `streamTruncated` event still fires).
   * @default 'error'
   */
  readonly onTruncated?: 'error' | 'end' | undefined;
  /**
   * How many times one background Responses stream (`background: true, stream: true`, or
   * `responses.retrieve(id, { stream: true })`) is resumed after it fails mid-stream (a reset, an early end,
   * a stall past `timeout.idle`, an `error` event): each resume asks for the events after the last one
   * received (`GET /responses/{id}?stream=true&starting_after=`), so the caller's stream goes on with none
   * missing and none twice. Each counts against the retry budget and passes the circuit breaker, the rate
   * limiter and the bulkhead like an attempt. `0` turns resuming off.
   * @default 3
   */
  readonly maxResumes?: number | undefined;
  /**
   * Continue a Chat Completions stream that fails mid-answer (a reset, a cut, a stall past `timeout.idle`,
   * an error event) with a new request for the rest of the answer, spliced into the caller's stream after
   * what it received; a `streamContinued` event marks the seam. Opt-in: it sends a new request, which
   * costs the prompt's tokens again. A strategy for your provider (OpenAI has none: a trailing assistant
   * message gets a new reply), or a function building the request. Never where the result could not be
   * faithful (a tool call begun, `n > 1`, `logprobs`, a refusal, structured output, audio): there the
   * stream ends with its error, which carries the partial output. See docs/streaming.md, "Level 3:
   * continuing a chat stream".
   * @default false
   * @example { continuation: 'prefix' } // Mistral; DeepSeek on https://api.deepseek.com/beta
   * @example { continuation: 'continue_final_message' } // vLLM
   */
  readonly continuation?: ContinuationOption | undefined;
}
