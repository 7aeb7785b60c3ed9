import type { TokenizerEncoding } from './encodings.js';

/**
 * Tokens of the function definitions a request offers the model (Chat Completions `tools` and legacy
 * `functions`, Responses `tools` of type `function`). OpenAI does not publish how it renders them; this is
 * the formula of OpenAI's cookbook ("How to count tokens with tiktoken", `num_tokens_for_tools`), which
 * matches the API's counts on the cookbook's example: per function a fixed start (7 tokens in
 * `o200k_base`, 10 in `cl100k_base`) and `name:description`; per parameter 3 tokens and
 * `name:type:description`, its enum values 3 tokens each (less 3 per enum); 12 tokens closing the list.
 * A trailing period of a description is not counted. Nested object and array parameters, which the
 * cookbook leaves out, add the tokens of their schema as JSON. Other tools (web search, file search, MCP...)
 * are rendered server-side and not counted.
 *
 * @module
 */

type CountText = (text: string) => number;

const FUNCTION_END = 12;
const PROPERTIES_START = 3;
const PROPERTY = 3;
const ENUM_START = -3;
const ENUM_ITEM = 3;

/** A function definition as the request carries it, whichever API shape. */
interface FunctionDefinition {
  readonly name: string;
  readonly description: string;
  readonly parameters: unknown;
}

/** Tokens of the function definitions in `tools` (either API's shape) and legacy `functions`; 0 for none. */
export function toolTokens(tools: unknown, functions: unknown, encoding: TokenizerEncoding, count: CountText): number {
  const definitions = [...definitionsOf(tools), ...definitionsOf(functions)];
  if (definitions.length === 0) return 0;
  const start = encoding === 'cl100k_base' ? 10 : 7;
  let tokens = FUNCTION_END;
  for (const { name, description, parameters } of definitions) {
    tokens += start + count(`${name}:${withoutPeriod(description)}`);
    const properties = record(record(parameters)?.['properties']);
    if (!properties || Object.keys(properties).length === 0) continue;
    tokens += PROPERTIES_START;
    for (const [key, value] of Object.entries(properties)) {
      const property = record(value) ?? {};
      tokens += PROPERTY;
      const values = property['enum'];
      if (Array.isArray(values)) {
        tokens += ENUM_START;
        for (const item of values) tokens += ENUM_ITEM + count(String(item));
      }
      tokens += count(`${key}:${typeOf(property['type'])}:${withoutPeriod(text(property['description']))}`);
      const nested = property['properties'] ?? property['items'];
      if (nested !== undefined) tokens += count(JSON.stringify(nested));
    }
  }
  return tokens;
}

function definitionsOf(list: unknown): FunctionDefinition[] {
  if (!Array.isArray(list)) return [];
  const definitions: FunctionDefinition[] = [];
  for (const entry of list) {
    const tool = record(entry);
    if (!tool) continue;
    // Chat Completions: { type: 'function', function: {...} }; Responses: { type: 'function', name, ... }; legacy functions: {...}.
    const fn = record(tool['function']) ?? (tool['type'] === undefined || tool['type'] === 'function' ? tool : undefined);
    if (!fn || typeof fn['name'] !== 'string') continue;
    definitions.push({ name: fn['name'], description: text(fn['description']), parameters: fn['parameters'] });
  }
  return definitions;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function typeOf(value: unknown): string {
  return Array.isArray(value) ? value.join('|') : text(value);
}

function withoutPeriod(description: string): string {
  return description.endsWith('.') ? description.slice(0, -1) : description;
}
