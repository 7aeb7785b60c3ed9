/** A response's `usage`, as the rate limiter and the budgets settle with it. */
export interface BilledUsage {
  /** Input tokens, cached ones included. */
  readonly input: number;
  /** Input tokens served from the prompt cache (priced at `cachedInput`). */
  readonly cached: number;
  /** Output tokens (reasoning tokens included). */
  readonly output: number;
  /** What a token limit counts: `total_tokens`, else input + output. */
  readonly total: number;
}

/**
 * The `usage` of an answer, in any of the API's shapes: Chat Completions (`prompt_tokens`,
 * `completion_tokens`, `prompt_tokens_details.cached_tokens`), Responses (`input_tokens`, `output_tokens`,
 * `input_tokens_details.cached_tokens`) and Embeddings (`prompt_tokens`, `total_tokens`). `undefined`
 * when the body has no usage.
 */
export function billedUsage(body: unknown): BilledUsage | undefined {
  const usage = (body as { usage?: unknown } | null | undefined)?.usage;
  if (typeof usage !== 'object' || usage === null) return undefined;
  const u = usage as Record<string, unknown>;
  const input = count(u['prompt_tokens']) ?? count(u['input_tokens']);
  const output = count(u['completion_tokens']) ?? count(u['output_tokens']);
  const reported = count(u['total_tokens']);
  if (input === undefined && output === undefined && reported === undefined) return undefined;
  const details = (u['prompt_tokens_details'] ?? u['input_tokens_details']) as { cached_tokens?: unknown } | null | undefined;
  const inputTokens = input ?? Math.max(0, (reported ?? 0) - (output ?? 0));
  const outputTokens = output ?? Math.max(0, (reported ?? 0) - inputTokens);
  return {
    input: inputTokens,
    cached: Math.min(inputTokens, count(details?.cached_tokens) ?? 0),
    output: outputTokens,
    total: reported ?? inputTokens + outputTokens,
  };
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.ceil(value) : undefined;
}
