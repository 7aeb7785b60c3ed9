import { billedUsage } from './billed-usage.js';
import type { RequestTokens, TokenCounter } from './token-counter.js';

/**
 * A cheap, deliberately rough estimate of the tokens a request will count against a TPM limit, made
 * before sending: about 4 characters per token over the prompt's text fields, plus the requested output
 * limit (`max_completion_tokens`, `max_tokens` or `max_output_tokens`), as OpenAI's limiter itself counts
 * `max_tokens` up front. Images, audio and files are not counted. The estimate is corrected with the
 * response's `usage` when it arrives.
 */
export function estimateTokens(body: unknown): number {
  if (typeof body !== 'object' || body === null) return 1;
  const request = body as Record<string, unknown>;
  const chars =
    textLength(request['messages']) + textLength(request['input']) + textLength(request['prompt']) +
    textLength(request['instructions']) + textLength(request['tools']);
  return Math.max(1, Math.ceil(chars / 4) + (outputBound(body) ?? 0));
}

/** Fields that carry images, audio or files rather than text (base64 would inflate the estimate). */
const BINARY_FIELDS = new Set(['image_url', 'file_data', 'input_audio', 'data', 'file_id', 'url', 'image']);

/** Characters of text in a string, or in the string leaves of arrays and objects (bounded depth). */
function textLength(value: unknown, depth = 0): number {
  if (typeof value === 'string') return value.startsWith('data:') ? 0 : value.length;
  if (depth > 6 || typeof value !== 'object' || value === null) return 0;
  let length = 0;
  if (Array.isArray(value)) {
    for (const item of value) length += textLength(item, depth + 1);
  } else {
    for (const key in value) {
      if (!BINARY_FIELDS.has(key)) length += textLength((value as Record<string, unknown>)[key], depth + 1);
    }
  }
  return length;
}

/** The most output a request allows itself (`max_completion_tokens`, `max_tokens` or `max_output_tokens`), if it sets one. */
export function outputBound(body: unknown): number | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const request = body as Record<string, unknown>;
  for (const value of [request['max_completion_tokens'], request['max_tokens'], request['max_output_tokens']]) {
    if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value;
  }
  return undefined;
}

/** Total tokens a response reports in `usage` (Chat Completions, Responses and Embeddings shapes): see {@link billedUsage}. */
export function usedTokens(body: unknown): number | undefined {
  return billedUsage(body)?.total;
}

/** A request's tokens by the estimate above: its prompt at about 4 characters per token, its output bound as set. */
export function estimateRequestTokens(body: unknown): RequestTokens {
  const total = estimateTokens(body);
  const output = outputBound(body);
  return { input: Math.max(1, total - (output ?? 0)), maxOutput: output, exact: false };
}

/** Counts by the estimate: what is used when no tokenizer is available. */
export const estimatingCounter: TokenCounter = {
  count: (body) => Promise.resolve(estimateRequestTokens(body)),
};
