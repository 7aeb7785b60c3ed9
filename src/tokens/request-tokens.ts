import { chatTokens } from './chat-tokens.js';
import { textTokens, type CountText } from './content-tokens.js';
import { encodingFor } from './encodings.js';
import { estimateRequestTokens, outputBound } from './estimate-tokens.js';
import { responsesTokens } from './responses-tokens.js';
import type { RequestTokens } from './token-counter.js';
import type { Tokenizer } from './tokenizer.js';
import { toolTokens } from './tool-tokens.js';

/**
 * A request's tokens counted by `tokenizer` in `model`'s encoding, by the shape of its body: Chat
 * Completions (`messages`, with `tools` / `functions`), Responses (`input`, `instructions`, `tools`),
 * Embeddings (`input` of a `text-embedding-*` model, or with `dimensions` / `encoding_format`) and legacy
 * Completions (`prompt`). A body of none of these shapes is estimated.
 */
export function countRequestTokens(body: unknown, model: string | undefined, tokenizer: Tokenizer): RequestTokens {
  if (typeof body !== 'object' || body === null) return estimateRequestTokens(body);
  const request = body as Record<string, unknown>;
  const encoding = encodingFor(model);
  const count: CountText = (text) => tokenizer.countText(text, encoding);
  let input: number;
  if (Array.isArray(request['messages'])) {
    input = chatTokens(request['messages'], model, count) + toolTokens(request['tools'], request['functions'], encoding, count);
  } else if ('input' in request && isEmbeddings(request, model)) {
    input = plainTokens(request['input'], count);
  } else if ('input' in request || 'instructions' in request) {
    input = responsesTokens(request['input'], request['instructions'], model, count) + toolTokens(request['tools'], undefined, encoding, count);
  } else if ('prompt' in request) {
    input = plainTokens(request['prompt'], count);
  } else {
    return estimateRequestTokens(body);
  }
  return { input, maxOutput: outputBound(body), exact: true };
}

function isEmbeddings(request: Record<string, unknown>, model: string | undefined): boolean {
  return (model?.startsWith('text-embedding') ?? false) || 'dimensions' in request || 'encoding_format' in request;
}

/** Embeddings' `input` or a legacy `prompt`: a string, strings, or token arrays (counted by their length). */
function plainTokens(value: unknown, count: CountText): number {
  if (typeof value === 'string') return textTokens(value, count);
  if (!Array.isArray(value)) return 0;
  if (value.every((item) => typeof item === 'number')) return value.length;
  return value.reduce<number>((sum, item) => sum + plainTokens(item, count), 0);
}
