import { describe, expect, it } from 'vitest';
import { imageTokens, patches, tiles } from '../../src/tokens/image-tokens.js';

// The worked examples of platform.openai.com/docs/guides/images-vision ("Calculating costs").
describe('imageTokens: OpenAI\'s published rules', () => {
  it('tile-based (gpt-4o): 1024×1024 high is 765, 2048×4096 high is 1105, 4096×8192 low is 85', () => {
    expect(imageTokens('gpt-4o', 'high', { width: 1024, height: 1024 })).toBe(765);
    expect(imageTokens('gpt-4o', 'high', { width: 2048, height: 4096 })).toBe(1105);
    expect(imageTokens('gpt-4o', 'low', { width: 4096, height: 8192 })).toBe(85);
    expect(tiles({ width: 2048, height: 4096 })).toBe(6);
  });

  it('per-model tile prices: gpt-4o-mini 2833 + 5667 a tile, gpt-5 70 + 140, o3 75 + 150', () => {
    expect(imageTokens('gpt-4o-mini', 'high', { width: 512, height: 512 })).toBe(2833 + 5667);
    expect(imageTokens('gpt-5', 'high', { width: 512, height: 512 })).toBe(70 + 140);
    expect(imageTokens('o3', 'low', undefined)).toBe(75);
  });

  it('patch-based (gpt-4.1-mini ×1.62): 1024×1024 is 1024 patches; 1800×2400 is scaled to 1452 patches', () => {
    expect(patches({ width: 1024, height: 1024 })).toBe(1024);
    expect(patches({ width: 1800, height: 2400 })).toBe(1452);
    expect(imageTokens('gpt-4.1-mini', 'high', { width: 1024, height: 1024 })).toBe(Math.ceil(1024 * 1.62));
    expect(imageTokens('o4-mini', 'auto', { width: 1800, height: 2400 })).toBe(Math.ceil(1452 * 1.72));
  });

  it('an image of unknown size counts as the most it can cost: 8 tiles, or 1536 patches', () => {
    expect(imageTokens('gpt-4o', 'auto', undefined)).toBe(85 + 8 * 170);
    expect(tiles({ width: 768, height: 2048 })).toBe(8);
    expect(imageTokens('gpt-4.1-nano', 'high', undefined)).toBe(Math.ceil(1536 * 2.46));
  });
});
