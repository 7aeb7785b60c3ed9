import { contentTokens, type CountText } from './content-tokens.js';

/**
 * Tokens of Chat Completions `messages`, by the rule of OpenAI's cookbook ("How to count tokens with
 * tiktoken", which matches the API's `prompt_tokens`): each message costs 3 tokens plus its role and
 * content, a `name` its text plus 1, and the reply is primed with 3 more. `gpt-3.5-turbo-0301` had another
 * rule: 4 per message, a `name` 1 less (it replaced the role), 3 priming. An assistant message's
 * `tool_calls` (and legacy `function_call`) cost their name and arguments plus 3 each, as `gpt-tokenizer`
 * counts a function call; a tool result is its content.
 */
export function chatTokens(messages: unknown, model: string | undefined, count: CountText): number {
  if (!Array.isArray(messages)) return 0;
  const legacy = model === 'gpt-3.5-turbo-0301';
  const perMessage = legacy ? 4 : 3;
  const perName = legacy ? -1 : 1;
  let tokens = 3;
  for (const entry of messages) {
    if (typeof entry !== 'object' || entry === null) continue;
    const message = entry as Record<string, unknown>;
    tokens += perMessage + contentTokens(message['content'], model, count);
    if (typeof message['role'] === 'string') tokens += count(message['role']);
    if (typeof message['name'] === 'string') tokens += count(message['name']) + perName;
    if (typeof message['refusal'] === 'string') tokens += count(message['refusal']);
    tokens += callTokens(message['function_call'], count);
    if (Array.isArray(message['tool_calls'])) {
      for (const call of message['tool_calls']) tokens += callTokens((call as { function?: unknown } | null)?.function, count);
    }
  }
  return tokens;
}

/** A function call the model made: its name and arguments, plus 3. */
export function callTokens(call: unknown, count: CountText): number {
  if (typeof call !== 'object' || call === null) return 0;
  const { name, arguments: args } = call as Record<string, unknown>;
  return 3 + (typeof name === 'string' ? count(name) : 0) + (typeof args === 'string' ? count(args) : 0);
}
