import type { PartialOutput } from '../partial-output.js';
import type { ContinuationSetting } from './continuation-options.js';
import { deliveredTokens } from './continuation-refusal.js';

/**
 * The user message of the `'instruction'` strategy, after the partial answer (an assistant message). The
 * fault server (`openai-resilient/testing`) answers a request ending with it as it answers a prefix.
 */
export const CONTINUE_INSTRUCTION =
  'Your previous response was cut off. Continue it from exactly where it stopped: do not repeat any of it, do not add any preamble.';

/**
 * The body of the request for the rest of `partial`: the original `body` with the partial answer added
 * as the strategy asks (see `ContinuationStrategy`), `stream` and `stream_options` as they were, and
 * `max_completion_tokens` / `max_tokens` lowered by the tokens received (`deliveredTokens`). Nothing was
 * received yet (the role chunk only): the original body, whatever the strategy (a plain retry duplicates
 * nothing). `undefined` when a builder of the caller's declines. Call it only once
 * `continuationRefusal` found nothing against it.
 */
export function continuationBody(
  body: Readonly<Record<string, unknown>>,
  partial: PartialOutput,
  setting: ContinuationSetting,
): Record<string, unknown> | undefined {
  if (setting.builder) {
    const built = setting.builder(body, partial);
    return built === undefined ? undefined : { ...built, stream: true };
  }
  if (partial.text === '') return { ...body, stream: true };
  const next: Record<string, unknown> = { ...body, stream: true };
  const delivered = deliveredTokens(partial);
  for (const key of ['max_completion_tokens', 'max_tokens']) {
    const limit = body[key];
    if (typeof limit === 'number') next[key] = Math.max(1, limit - delivered);
  }
  const messages = [...(body['messages'] as readonly unknown[])];
  const answer = { role: 'assistant', content: partial.text };
  switch (setting.strategy) {
    case 'prefix':
      messages.push({ ...answer, prefix: true });
      break;
    case 'continue_final_message':
      messages.push(answer);
      // vLLM refuses both at once: the final message stays open, with no new assistant turn after it.
      next['continue_final_message'] = true;
      next['add_generation_prompt'] = false;
      break;
    case 'prefill':
      messages.push(answer);
      break;
    case 'instruction':
      messages.push(answer, { role: 'user', content: CONTINUE_INSTRUCTION });
      break;
  }
  next['messages'] = messages;
  return next;
}
