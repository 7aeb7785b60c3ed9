import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { resilient, type ResilienceOptions } from '../../src/index.js';
import { resolveBudgets } from '../../src/budgets/resolve-budget-options.js';

const client = () => new OpenAI({ apiKey: 'sk-test', baseURL: 'http://127.0.0.1:1/v1' });
const build = (options: ResilienceOptions) => () => resilient(client(), options);
const prices = { 'gpt-4.1-mini': { input: 0.4, output: 1.6 } };

describe('budgets: validation', () => {
  it.each([
    [{ limits: [] }, /`budgets.limits` must be a non-empty array/],
    [{ limits: 'x' }, /`budgets.limits`/],
    [{ limits: [{ window: 'hour' }] }, /`budgets.limits\[0\]` must be a limit with exactly one of `tokens` and `spend`/],
    [{ limits: [{ tokens: 1, spend: 1, window: 'hour' }], prices }, /`budgets.limits\[0\]` must be a limit with exactly one/],
    [{ limits: [{ tokens: 0, window: 'hour' }] }, /`budgets.limits\[0\].tokens` must be a positive number/],
    [{ limits: [{ tokens: -5, window: 'hour' }] }, /`budgets.limits\[0\].tokens`/],
    [{ limits: [{ tokens: 1.5, window: 'hour' }] }, /`budgets.limits\[0\].tokens` must be an integer/],
    [{ limits: [{ spend: Number.NaN, window: 'hour' }], prices }, /`budgets.limits\[0\].spend` must be a positive number/],
    [{ limits: [{ tokens: 10, window: 'fortnight' }] }, /`budgets.limits\[0\].window` must be 'minute', 'hour'/],
    [{ limits: [{ tokens: 10, window: 10 }] }, /`budgets.limits\[0\].window`/],
    [{ limits: [{ tokens: 10 }] }, /`budgets.limits\[0\].window`/],
    [{ limits: [{ tokens: 10, window: 'hour', per: 'user' }] }, /`budgets.limits\[0\].per` must be 'tenant' or 'client'/],
    [{ limits: [{ tokens: 10, window: 'hour', models: [] }] }, /`budgets.limits\[0\].models`/],
    [{ limits: [{ tokens: 10, window: 'hour', tenants: { a: 0 } }] }, /`budgets.limits\[0\].tenants.a` must be a positive number/],
    [{ limits: [{ tokens: 10, window: 'hour', per: 'client', tenants: { a: 5 } }] }, /`budgets.limits\[0\].tenants`/],
    [{ limits: [{ tokens: 10, window: 'hour', name: 'x' }, { tokens: 20, window: 'day', name: 'x' }] }, /`budgets.limits\[1\].name` must be a name no other limit has/],
    [{ limits: [{ tokens: 10, window: 'hour', typo: 1 }] }, /unknown option `budgets.limits\[0\].typo`/],
    [{ limits: [{ tokens: 10, window: 'hour' }], thresholds: [0] }, /`budgets.thresholds\[0\]` must be a number in \(0, 1\]/],
    [{ limits: [{ tokens: 10, window: 'hour' }], thresholds: [1.2] }, /`budgets.thresholds\[0\]`/],
    [{ limits: [{ tokens: 10, window: 'hour' }], outageShare: 0 }, /`budgets.outageShare` must be a number in \(0, 1\]/],
    [{ limits: [{ tokens: 10, window: 'hour' }], outageShare: 2 }, /`budgets.outageShare`/],
    [{ limits: [{ tokens: 10, window: 'hour' }], assumedOutputTokens: 0 }, /`budgets.assumedOutputTokens`/],
    [{ limits: [{ spend: 10, window: 'hour' }] }, /`budgets.prices` must be prices per model/],
    [{ limits: [{ tokens: 10, window: 'hour' }], prices: { m: { input: -1, output: 1 } } }, /`budgets.prices.m.input` must be a finite number from 0/],
    [{ limits: [{ tokens: 10, window: 'hour' }], prices: { m: { input: 1, output: Infinity } } }, /`budgets.prices.m.output`/],
    [{ limits: [{ tokens: 10, window: 'hour' }], prices: { m: { input: 1, output: 1, cachedInput: -0.1 } } }, /`budgets.prices.m.cachedInput`/],
    [{ limits: [{ tokens: 10, window: 'hour' }], prices: { m: { input: 1 } } }, /`budgets.prices.m.output`/],
    [{ limits: [{ spend: 10, window: 'hour', models: ['gpt-4o'] }], prices }, /`budgets.prices` has no price for the model "gpt-4o" \(named in `budgets.limits\[0\].models`\)/],
    [{ limits: [{ tokens: 10, window: 'hour' }], typo: 1 }, /unknown option `budgets.typo`/],
  ])('%j is a TypeError naming the option', (budgets, message) => {
    expect(build({ budgets: budgets as never })).toThrow(TypeError);
    expect(build({ budgets: budgets as never })).toThrow(message);
  });

  it('under a spend limit, every model the configuration names needs a price (fallback models, context windows, pool members)', () => {
    const budgets = { limits: [{ spend: 10, window: 'month' as const }], prices };
    expect(build({ budgets, fallback: { models: { 'gpt-4.1-mini': ['gpt-4.1-nano'] } } })).toThrow(/no price for the model "gpt-4.1-nano" \(named in `fallback.models.gpt-4.1-mini`\)/);
    expect(build({ budgets, contextWindows: { 'o3': 200_000 } })).toThrow(/no price for the model "o3" \(named in `contextWindows`\)/);
    expect(() => resilient([client(), { client: client(), models: { 'gpt-5': 'deployment-5' } }], { budgets })).toThrow(/no price for the model "gpt-5" \(named in `members\[1\].models`\)/);
    // A model no spend limit counts needs none; a prefix prices a dated name.
    expect(build({ budgets: { limits: [{ spend: 10, window: 'month', models: ['gpt-4.1-mini'] }], prices }, contextWindows: { 'o3': 200_000 } })).not.toThrow();
    expect(build({ budgets, fallback: { models: { 'gpt-4.1-mini': ['gpt-4.1-mini-2025-04-14'] } } })).not.toThrow();
    expect(build({ budgets: { limits: [{ tokens: 10, window: 'month' }] }, contextWindows: { 'o3': 200_000 } })).not.toThrow();
  });

  it('resolves the defaults: a name per limit, per tenant, thresholds 0.8 and 1, 1024 output tokens, 0.25 in an outage', () => {
    const settings = resolveBudgets({ limits: [{ tokens: 10, window: 'hour' }, { spend: 2.5, window: 90_000, per: 'client' }], prices })!;
    expect(settings.limits.map((limit) => [limit.name, limit.per, limit.metric, limit.amount, limit.window])).toEqual([
      ['tenant:tokens:hour', 'tenant', 'tokens', 10, { kind: 'sliding', ms: 3_600_000 }],
      ['client:spend:90000ms', 'client', 'spend', 2_500_000, { kind: 'sliding', ms: 90_000 }],
    ]);
    expect(settings).toMatchObject({ thresholds: [0.8, 1], assumedOutputTokens: 1024, outageShare: 0.25, spends: true });
    expect(resolveBudgets({ limits: [{ tokens: 1, window: 'month' }], thresholds: [1, 0.5, 0.5] })!.thresholds).toEqual([0.5, 1]);
    expect(resolveBudgets(undefined)).toBeUndefined();
  });
});
