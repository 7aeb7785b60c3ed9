import { describe, expect, it } from 'vitest';
import { faults } from '../../src/testing/index.js';
import type { BudgetSettledEvent } from '../../src/index.js';
import { openaiPrices, openaiPricesAt } from '../../src/prices/index.js';
import { pricesFromCatalog, type CatalogModel } from '../../src/prices/prices-from-catalog.js';
import { chatParams, harness } from '../support/harness.js';

describe('openai-resilient/prices', () => {
  it("openaiPrices: OpenAI's per-million prices from @pydantic/genai-prices, under dated names too; none at zero by omission", () => {
    // As OpenAI's pricing page has them (standard tier, US dollars per million tokens).
    expect(openaiPrices['gpt-4o']).toEqual({ input: 2.5, cachedInput: 1.25, output: 10 });
    expect(openaiPrices['gpt-4o-2024-08-06']).toEqual(openaiPrices['gpt-4o']);
    expect(openaiPrices['gpt-4o-mini']).toEqual({ input: 0.15, cachedInput: 0.075, output: 0.6 });
    expect(openaiPrices['gpt-4.1']).toEqual({ input: 2, cachedInput: 0.5, output: 8 });
    expect(openaiPrices['text-embedding-3-small']).toEqual({ input: 0.02, output: 0 });
    for (const [model, price] of Object.entries(openaiPrices)) {
      expect(price.input, model).toBeGreaterThanOrEqual(0);
      expect(price.output, model).toBeGreaterThanOrEqual(0);
    }
    expect(Object.isFrozen(openaiPrices)).toBe(true);
  });

  it('openaiPricesAt: a price that changed on a date is the one in force then (o3 before and after its June 2025 cut)', () => {
    expect(openaiPricesAt(new Date('2025-05-01'))['o3']).toMatchObject({ input: 10, output: 40 });
    expect(openaiPricesAt(new Date('2025-07-01'))['o3']).toMatchObject({ input: 2, output: 8 });
  });

  it('pricesFromCatalog: names from equals and starts_with rules, the base of tiered prices, no model without an input price', () => {
    const models: CatalogModel[] = [
      { id: 'a', match: { or: [{ equals: 'a' }, { equals: 'a-2026' }, { contains: 'ignored' }] }, prices: { input_mtok: 1, cache_read_mtok: 0.1, output_mtok: 4 } },
      { id: 'b', match: { starts_with: 'b-' }, prices: { input_mtok: { base: 2, tiers: [{ start: 271_999, price: 4 }] } as never, output_mtok: 8 } },
      { id: 'c', match: { equals: 'c' }, prices: { output_mtok: 3 } },
      { id: 'd', match: { equals: 'd' }, prices: [{ prices: { input_mtok: 5, output_mtok: 5 } }, { constraint: { type: 'start_date', start_date: '2026-01-01' }, prices: { input_mtok: 1, output_mtok: 1 } }] },
    ];
    const prices = pricesFromCatalog(models, new Date('2026-06-01'));
    expect(prices).toEqual({
      a: { input: 1, cachedInput: 0.1, output: 4 }, 'a-2026': { input: 1, cachedInput: 0.1, output: 4 },
      b: { input: 2, output: 8 }, 'b-': { input: 2, output: 8 },
      d: { input: 1, output: 1 },
    });
    expect(pricesFromCatalog(models, new Date('2025-06-01'))['d']).toEqual({ input: 5, output: 5 });
  });

  it('prices a spend budget through the client: a dated gpt-4o-mini call settles at the catalog price', async () => {
    const { server, ai } = await harness({ budgets: { limits: [{ name: 'spend', spend: 1, window: 'day' }], prices: openaiPrices } });
    const settled: BudgetSettledEvent[] = [];
    ai.resilience.on('budgetSettled', (event) => settled.push(event));
    server.enqueue(faults.ok({
      id: 'c', object: 'chat.completion', created: 0, model: 'gpt-4o-mini-2024-07-18',
      choices: [{ index: 0, message: { role: 'assistant', content: 'ok', refusal: null }, finish_reason: 'stop', logprobs: null }],
      usage: { prompt_tokens: 1_000_000, completion_tokens: 1_000_000, total_tokens: 2_000_000, prompt_tokens_details: { cached_tokens: 0 } },
    }));
    await ai.chat.completions.create({ ...chatParams, model: 'gpt-4o-mini-2024-07-18', max_tokens: 10 });
    for (let i = 0; i < 50 && settled.length === 0; i++) await new Promise((resolve) => setImmediate(resolve));
    // A million input tokens at 0.15 and a million output at 0.6.
    expect(settled[0]).toMatchObject({ metric: 'spend', amount: 0.75 });
  });
});
