import { describe, expect, it } from 'vitest';
import { toolTokens } from '../../src/tokens/tool-tokens.js';
import { tokenizer } from './support.js';

const count = (text: string) => tokenizer.countText(text, 'o200k_base');

describe('toolTokens', () => {
  it('none: 0', () => {
    expect(toolTokens(undefined, undefined, 'o200k_base', count)).toBe(0);
    expect(toolTokens([{ type: 'web_search' }], [], 'o200k_base', count)).toBe(0);
  });

  it('a function with no parameters: its start, name:description (no trailing period) and the closing 12', () => {
    const tools = [{ type: 'function', function: { name: 'now', description: 'The time.' } }];
    expect(toolTokens(tools, undefined, 'o200k_base', count)).toBe(7 + count('now:The time') + 12);
    expect(toolTokens(tools, undefined, 'cl100k_base', count)).toBe(10 + count('now:The time') + 12);
  });

  it('legacy `functions` count as tools do; nested parameters add their schema as JSON', () => {
    const fn = { name: 'f', description: 'd', parameters: { type: 'object', properties: { a: { type: 'object', properties: { b: { type: 'string' } } } } } };
    const nested = JSON.stringify({ b: { type: 'string' } });
    expect(toolTokens(undefined, [fn], 'o200k_base', count)).toBe(7 + count('f:d') + 3 + 3 + count('a:object:') + count(nested) + 12);
  });
});
