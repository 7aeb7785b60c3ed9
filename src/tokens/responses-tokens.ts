import { callTokens } from './chat-tokens.js';
import { contentTokens, textTokens, type CountText } from './content-tokens.js';

/**
 * Tokens of a Responses API request's `input` and `instructions`. OpenAI publishes no rule for how the
 * Responses API frames items; they are counted as chat messages are (the same models read the same
 * format): 3 per message plus its role and content, `instructions` as a developer message, a string
 * `input` as a user message, 3 priming the reply. Function calls cost their name and arguments plus 3, their
 * outputs their text plus 3; reasoning items their summary text. The context a `previous_response_id`
 * or `conversation` brings is on the server, and not counted.
 */
export function responsesTokens(input: unknown, instructions: unknown, model: string | undefined, count: CountText): number {
  let tokens = 3;
  if (typeof instructions === 'string') tokens += 3 + count('developer') + textTokens(instructions, count);
  if (typeof input === 'string') return tokens + 3 + count('user') + textTokens(input, count);
  if (!Array.isArray(input)) return tokens;
  for (const entry of input) {
    if (typeof entry !== 'object' || entry === null) continue;
    tokens += itemTokens(entry as Record<string, unknown>, model, count);
  }
  return tokens;
}

function itemTokens(item: Record<string, unknown>, model: string | undefined, count: CountText): number {
  const type = item['type'];
  if (type === undefined || type === 'message') {
    const role = typeof item['role'] === 'string' ? count(item['role']) : 0;
    return 3 + role + contentTokens(item['content'], model, count);
  }
  if (type === 'function_call') return callTokens(item, count);
  if (type === 'reasoning') {
    const summary = Array.isArray(item['summary']) ? item['summary'] : [];
    return summary.reduce<number>((sum, part) => sum + contentTokens([part], model, count), 0);
  }
  // Outputs of function, custom and other tool calls, and the calls' own inputs: their text, plus 3.
  let tokens = 3;
  for (const key of ['output', 'input', 'arguments', 'name'] as const) {
    const value = item[key];
    if (typeof value === 'string') tokens += textTokens(value, count);
    else if (Array.isArray(value)) tokens += contentTokens(value, model, count);
  }
  return tokens;
}
