import { describe, expect, it } from 'vitest';
import { faults } from '../../src/testing/index.js';
import { chatParams, drive } from '../support/harness.js';
import { memberPool, type MemberPool } from '../support/pool-members.js';

/** `n` calls one after another. */
async function sequential(h: MemberPool, n: number, params: object = chatParams): Promise<void> {
  for (let i = 0; i < n; i++) await drive(h.clock, h.ai.chat.completions.create(params as typeof chatParams));
}

describe('pool routing', () => {
  it('balanced (the default) splits calls in proportion to weight, even one at a time', async () => {
    const h = await memberPool([{ weight: 1 }, { weight: 2 }, { weight: 3 }]);
    await sequential(h, 120);
    const [a, b, c] = h.received();
    // Each call goes to the member furthest below its share: within a few calls of 20 / 40 / 60.
    expect(a! + b! + c!).toBe(120);
    expect(Math.abs(a! - 20)).toBeLessThanOrEqual(3);
    expect(Math.abs(b! - 40)).toBeLessThanOrEqual(3);
    expect(Math.abs(c! - 60)).toBeLessThanOrEqual(3);
  });

  it('balanced spreads concurrent calls by the members\' learned limits', async () => {
    // Three accounts of 60, 120 and 180 requests a minute, announced in their x-ratelimit-* headers.
    const capacity = (rpm: number) => ({ server: { capacity: { requestsPerMinute: rpm, burstSeconds: 60 } } });
    const h = await memberPool([capacity(600), capacity(1_200), capacity(1_800)], { rateLimit: {} });
    // The first calls learn each member's limits. Members are drawn at random, so a few calls may all miss
    // one of them: calls go one at a time until every member has answered (at most 100).
    const learned = () => Object.values(h.ai.resilience.stats().members!).every((member) => member.rateLimits['gpt-4.1-mini']?.requestsPerMinute !== undefined);
    await sequential(h, 6);
    for (let i = 0; i < 100 && !learned(); i++) await sequential(h, 1);
    const stats = h.ai.resilience.stats().members!;
    expect(stats['m2']!.rateLimits['gpt-4.1-mini']).toMatchObject({ requestsPerMinute: 1_800 });
    const before = h.received();
    await Promise.all(Array.from({ length: 60 }, () => drive(h.clock, h.ai.chat.completions.create(chatParams))));
    const shares = h.received().map((count, index) => count - before[index]!);
    expect(shares.reduce((x, y) => x + y)).toBe(60);
    // 1 : 2 : 3, within a few calls.
    expect(Math.abs(shares[0]! - 10)).toBeLessThanOrEqual(4);
    expect(Math.abs(shares[1]! - 20)).toBeLessThanOrEqual(4);
    expect(Math.abs(shares[2]! - 30)).toBeLessThanOrEqual(4);
  });

  it('ordered sends everything to the first member while it can take it', async () => {
    const h = await memberPool([{}, {}, {}], { pool: { routing: 'ordered' } });
    await sequential(h, 10);
    expect(h.received()).toEqual([10, 0, 0]);
  });

  it('ordered overflows to the next member when the first is full', async () => {
    const h = await memberPool([{ maxConcurrent: 2 }, {}], { pool: { routing: 'ordered' } });
    h.servers[0]!.enqueue(faults.delay(50), faults.delay(50));
    await Promise.all(Array.from({ length: 5 }, () => drive(h.clock, h.ai.chat.completions.create(chatParams))));
    expect(h.received()).toEqual([2, 3]);
  });

  it('weighted draws members at random in proportion to weight', async () => {
    const h = await memberPool([{ weight: 1 }, { weight: 4 }], { pool: { routing: 'weighted' } });
    await sequential(h, 200);
    const [a, b] = h.received();
    expect(a! + b!).toBe(200);
    // Binomial(200, 0.2): mean 40, sd 5.7; 15..70 is beyond four sd either way.
    expect(a).toBeGreaterThan(15);
    expect(a).toBeLessThan(70);
  });

  it('sends a model only to the members that serve it, under the name each knows it by', async () => {
    const h = await memberPool([
      { models: ['gpt-4.1'] },
      { models: { 'gpt-4.1-mini': 'mini-deployment', 'gpt-4.1': 'big-deployment' } },
    ]);
    await sequential(h, 4, chatParams);
    expect(h.received()).toEqual([0, 4]);
    expect(h.servers[1]!.requestsTo('/chat/completions').map((r) => (r.body as { model: string }).model)).toEqual(Array(4).fill('mini-deployment'));
    await sequential(h, 20, { ...chatParams, model: 'gpt-4.1' });
    const models = h.servers.map((server) => new Set(server.requestsTo('/chat/completions').map((r) => (r.body as { model: string }).model)));
    expect(models[0]).toEqual(new Set(['gpt-4.1']));
    expect(models[1]).toEqual(new Set(['mini-deployment', 'big-deployment']));
    // The caller still sees its own model's answer, and stats count the model it asked for.
    expect(Object.keys(h.ai.resilience.stats().models).sort()).toEqual(['gpt-4.1', 'gpt-4.1-mini']);
  });

  it('rejects a call for a model no member serves with a TypeError naming it, sending nothing', async () => {
    const h = await memberPool([{ models: ['gpt-4.1'] }, { models: ['gpt-4.1'] }]);
    await expect(h.ai.chat.completions.create(chatParams)).rejects.toThrow(/no pool member serves the model "gpt-4\.1-mini" \(members: m0, m1\)/);
    expect(h.received()).toEqual([0, 0]);
  });

  it('sends requests without a model (files, models) to the first member', async () => {
    const h = await memberPool([{}, {}]);
    await h.ai.models.list();
    await h.ai.models.list();
    expect(h.received('/models')).toEqual([2, 0]);
  });
});
