import { describe, expect, it } from 'vitest';
import { faults } from '../../src/testing/index.js';
import { BudgetExceededError, type BudgetSettledEvent, type BudgetThresholdEvent } from '../../src/index.js';
import { chatParams, harness, rejectionOf } from '../support/harness.js';

const bounded = { ...chatParams, max_tokens: 100 };

function completionWithUsage(prompt: number, completion: number, cached = 0) {
  return {
    id: 'chatcmpl-1', object: 'chat.completion', created: 0, model: 'gpt-4.1-mini',
    choices: [{ index: 0, message: { role: 'assistant', content: 'ok', refusal: null }, finish_reason: 'stop', logprobs: null }],
    usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, prompt_tokens_details: { cached_tokens: cached } },
  };
}

/** Polls `condition` while promises settle; fails after 2 s. */
async function until(condition: () => boolean): Promise<void> {
  const giveUpAt = Date.now() + 2000;
  while (!condition()) {
    if (Date.now() > giveUpAt) throw new Error('condition not met within 2 s');
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

describe('budgets: thresholds', () => {
  it('fire once at 80% and once at 100% per window, after a reservation or a settlement, and again in a later window', async () => {
    const { server, clock, ai } = await harness({ tokens: { tokenizer: 'estimate' }, budgets: { limits: [{ name: 'l', tokens: 1_000, window: 'minute' }] } });
    const fired: BudgetThresholdEvent[] = [];
    ai.resilience.on('budgetThreshold', (event) => fired.push(event));
    // Listener failures never reach the call.
    ai.resilience.on('budgetThreshold', () => {
      throw new Error('listener bug');
    });
    ai.resilience.on('listenerError', () => undefined);
    const settledCount = () => ai.resilience.stats().budgets['l']!.tenants['acme']?.models['gpt-4.1-mini']?.used ?? 0;
    const tenant = ai.resilience.forTenant('acme');
    for (let i = 1; i <= 4; i++) {
      server.enqueue(faults.ok(completionWithUsage(150, 100)));
      await tenant.chat.completions.create(bounded);
      await until(() => settledCount() === 250 * i);
    }
    // 750 settled, then the 4th call's reservation (853) crossed 80%, and its settlement (1 000) 100%.
    expect(fired.map((event) => [event.threshold, event.used])).toEqual([[0.8, 853], [1, 1_000]]);
    expect(fired[0]).toMatchObject({ limitName: 'l', per: 'tenant', metric: 'tokens', tenant: 'acme', model: 'gpt-4.1-mini', limit: 1_000 });
    expect(fired[0]!.resetsAt).toBeInstanceOf(Date);
    expect(await rejectionOf(tenant.chat.completions.create(bounded))).toBeInstanceOf(BudgetExceededError);
    expect(fired).toHaveLength(2);

    // A window later (and a slot), the usage has left: the thresholds fire again when reached again.
    await clock.advance(61_000);
    for (let i = 0; i < 4; i++) {
      server.enqueue(faults.ok(completionWithUsage(150, 100)));
      await tenant.chat.completions.create(bounded);
    }
    await until(() => fired.length === 4);
    expect(fired.map((event) => event.threshold)).toEqual([0.8, 1, 0.8, 1]);
  });
});

describe('budgets: sliding windows and months, through the client', () => {
  it('usage leaves a sliding window one window (and at most one slot) after it was reserved', async () => {
    const { server, clock, ai } = await harness({ tokens: { tokenizer: 'estimate' }, budgets: { limits: [{ tokens: 103, window: 'hour' }] } });
    server.enqueue(faults.ok(completionWithUsage(3, 100)));
    await ai.chat.completions.create(bounded);
    await clock.advance(3_600_000 - 1);
    expect(await rejectionOf(ai.chat.completions.create(bounded))).toBeInstanceOf(BudgetExceededError);
    await clock.advance(60_001);
    await ai.chat.completions.create(bounded);
    expect(server.requests).toHaveLength(2);
  });

  it("a `'month'` budget resets on the 1st at 00:00 UTC, and its error says so", async () => {
    const { server, clock, ai } = await harness({ tokens: { tokenizer: 'estimate' }, budgets: { limits: [{ tokens: 103, window: 'month' }] } });
    await clock.advance(Date.UTC(2026, 0, 31, 23, 59) - clock.now());
    server.enqueue(faults.ok(completionWithUsage(3, 100)));
    await ai.chat.completions.create(bounded);
    const error = (await rejectionOf(ai.chat.completions.create(bounded))) as BudgetExceededError;
    expect(error.resetsAt).toEqual(new Date(Date.UTC(2026, 1, 1)));
    await clock.advance(Date.UTC(2026, 1, 1) - clock.now());
    await ai.chat.completions.create(bounded);
    expect(server.requests).toHaveLength(2);
  });
});

describe('budgets: spend', () => {
  const prices = { 'gpt-4.1-mini': { input: 10, cachedInput: 1, output: 100 } };

  it('reserves input and output at their prices, and settles at the usage’s prices, cached input at its own', async () => {
    const { server, ai } = await harness({ tokens: { tokenizer: 'estimate' }, budgets: { limits: [{ name: 'spend', spend: 0.01, window: 'day' }], prices } });
    const settled: BudgetSettledEvent[] = [];
    ai.resilience.on('budgetSettled', (event) => settled.push(event));
    // 3 input tokens at 10/M and 100 output at 100/M: 0.01003, over 0.01.
    const error = (await rejectionOf(ai.chat.completions.create(bounded))) as BudgetExceededError;
    expect(error).toMatchObject({ metric: 'spend', limit: 0.01, used: 0, requested: 0.01003 });
    expect(server.requests).toHaveLength(0);

    server.enqueue(faults.ok(completionWithUsage(1_000, 10, 800)));
    await ai.chat.completions.create({ ...bounded, max_tokens: 50 });
    await until(() => settled.length === 1);
    // 200 uncached × 10 + 800 cached × 1 + 10 output × 100, in millionths: 0.0038.
    expect(settled[0]).toMatchObject({ metric: 'spend', amount: 0.0038, used: 0.0038, limit: 0.01 });
    expect(ai.resilience.stats().budgets['spend']).toMatchObject({ metric: 'spend', limit: 0.01, tenants: { '(no tenant)': { used: 0.0038, remaining: 0.0062 } } });
  });

  it('a call to a model without a price under a spend limit is a TypeError naming `budgets.prices`, before anything is sent', async () => {
    const { server, ai } = await harness({ tokens: { tokenizer: 'estimate' }, budgets: { limits: [{ spend: 1, window: 'day' }], prices } });
    const error = await rejectionOf(ai.chat.completions.create({ ...bounded, model: 'gpt-4.1-nano' }));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toMatch(/`budgets.prices` has no price for the model "gpt-4.1-nano"/);
    expect(server.requests).toHaveLength(0);
    // A dated name is priced by its prefix.
    await ai.chat.completions.create({ ...bounded, model: 'gpt-4.1-mini-2025-04-14' });
    expect(server.requests).toHaveLength(1);
  });
});

describe('budgets: stats', () => {
  it('reports per limit, per tenant (as named) and per model, with refusals', async () => {
    const { server, clock, ai } = await harness({ tokens: { tokenizer: 'estimate' }, budgets: { limits: [{ name: 'l', tokens: 500, window: 'hour' }] } });
    server.enqueue(faults.ok(completionWithUsage(100, 100)));
    await ai.resilience.forTenant('acme').chat.completions.create(bounded);
    await until(() => ai.resilience.stats().budgets['l']!.tenants['acme']?.used === 200);
    await rejectionOf(ai.resilience.forTenant('acme').chat.completions.create({ ...bounded, max_tokens: 400 }));
    const stats = ai.resilience.stats().budgets['l']!;
    expect(stats).toMatchObject({ per: 'tenant', metric: 'tokens', limit: 500 });
    expect(stats.tenants['acme']).toEqual({
      used: 200, limit: 500, remaining: 300, refusals: 1, updatedAt: clock.now(), resetsAt: expect.any(Number),
      models: { 'gpt-4.1-mini': { used: 200, refusals: 1 } },
    });
    expect(ai.resilience.stats().tenants['acme']).toBeDefined();
  });

  it('keeps at most 1 000 counters (the least recently used dropped), however many tenants call', async () => {
    const { ai } = await harness({ tokens: { tokenizer: 'estimate' }, budgets: { limits: [{ name: 'l', tokens: 10, window: 'hour' }] } });
    await Promise.all(Array.from({ length: 1_100 }, (_, i) => rejectionOf(ai.resilience.forTenant(`t${i}`).chat.completions.create(bounded))));
    const tenants = Object.keys(ai.resilience.stats().budgets['l']!.tenants);
    expect(tenants).toHaveLength(1_000);
    expect(tenants).toContain('t1099');
    expect(tenants).not.toContain('t0');
  });

  it('is empty without budgets', async () => {
    const { ai } = await harness();
    expect(ai.resilience.stats().budgets).toEqual({});
  });
});
