import type { ContinuationRefusal } from '../../events/event-map.js';
import type { PartialOutput } from '../partial-output.js';

/**
 * Completion tokens the caller received before the failure: the usage's, if it came (rare: it comes
 * last), else one per chunk after the first (OpenAI streams the role alone, then about a token a chunk).
 * An estimate, used to lower the continuation's token limit and to add to its usage.
 */
export function deliveredTokens(partial: PartialOutput): number {
  const reported = partial.usage?.['completion_tokens'];
  if (typeof reported === 'number') return reported;
  return Math.max(0, partial.chunks - 1);
}

/** Why `partial`, received for a request of `body`, cannot be continued faithfully; `undefined` if it can. */
export function continuationRefusal(body: Readonly<Record<string, unknown>>, partial: PartialOutput): ContinuationRefusal | undefined {
  if (partial.api !== 'chat.completions' || !Array.isArray(body['messages'])) return 'not_chat';
  const n = body['n'];
  if ((typeof n === 'number' && n > 1) || partial.choices.some((choice) => choice.index !== 0)) return 'choices';
  if (body['logprobs'] === true || typeof body['top_logprobs'] === 'number') return 'logprobs';
  const choice = partial.choices.find((c) => c.index === 0);
  if (partial.toolCalls.length > 0) return 'tool_call';
  if (partial.refusal !== undefined) return 'refusal';
  const format = (body['response_format'] as { type?: unknown } | null | undefined)?.type;
  if (format === 'json_object' || format === 'json_schema') return 'structured_output';
  const modalities = body['modalities'];
  if ((Array.isArray(modalities) && modalities.includes('audio')) || (body['audio'] !== undefined && body['audio'] !== null)) return 'audio';
  if (choice?.finishReason !== undefined) return 'finished';
  const delivered = deliveredTokens(partial);
  for (const key of ['max_completion_tokens', 'max_tokens']) {
    const limit = body[key];
    if (typeof limit === 'number' && limit - delivered < 1) return 'length';
  }
  return undefined;
}
