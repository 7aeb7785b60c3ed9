import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { faults } from '../../src/testing/index.js';
import { BudgetExceededError, classify, isBudgetExceededError, type BudgetExceededEvent, type BudgetSettledEvent, type GiveUpEvent } from '../../src/index.js';
import { countTokens } from '../../src/tokenizer/index.js';
import { chatParams, drive, harness, rejectionOf } from '../support/harness.js';

/** `chatParams` with an output bound: the estimate reserves its prompt (3 tokens) plus 100. */
const bounded = { ...chatParams, max_tokens: 100 };
const RESERVED = 103;

describe('budgets: a call that does not fit fails before it is sent', () => {
  it('refuses with BudgetExceededError carrying the limit, what was used, the request and the reset; the server receives nothing', async () => {
    const { server, clock, ai } = await harness({ tokens: { tokenizer: 'estimate' }, budgets: { limits: [{ name: 'hourly', tokens: 150, window: 'hour' }] } });
    const refused: BudgetExceededEvent[] = [];
    ai.resilience.on('budgetExceeded', (event) => refused.push(event));
    server.enqueue(faults.ok({ id: 'x', object: 'chat.completion', created: 0, model: 'gpt-4.1-mini', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop', logprobs: null }], usage: { prompt_tokens: 40, completion_tokens: 20, total_tokens: 60 } }));
    await ai.resilience.forTenant('acme').chat.completions.create(bounded);
    expect(server.requests).toHaveLength(1);

    const error = await rejectionOf(ai.resilience.forTenant('acme').chat.completions.create(bounded));
    expect(server.requests).toHaveLength(1);
    expect(error).toBeInstanceOf(BudgetExceededError);
    expect(error).toBeInstanceOf(OpenAI.OpenAIError);
    expect(isBudgetExceededError(error)).toBe(true);
    expect(classify(error)).toMatchObject({ kind: 'budget_exceeded', action: 'fail' });
    expect(error).toMatchObject({
      name: 'BudgetExceededError', kind: 'budget_exceeded', limitName: 'hourly', per: 'tenant', metric: 'tokens', limit: 150, used: 60,
      requested: RESERVED, tenant: 'acme', model: 'gpt-4.1-mini',
    });
    // The 60 tokens were charged at the start of a 1-minute slot: they leave one hour and one slot later.
    const slot = 60_000;
    expect(error.resetsAt).toEqual(new Date(Math.floor(clock.now() / slot) * slot + slot + 3_600_000));
    expect(error.message).not.toContain('Say ok');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ limitName: 'hourly', tenant: 'acme', used: 60, limit: 150, requested: RESERVED, model: 'gpt-4.1-mini' });
    // Another tenant has its own count.
    await ai.resilience.forTenant('globex').chat.completions.create(bounded);
    expect(server.requests).toHaveLength(2);
  });

  it('a call larger than the limit itself never goes', async () => {
    const { server, ai } = await harness({ tokens: { tokenizer: 'estimate' }, budgets: { limits: [{ tokens: 50, window: 'minute' }] } });
    const error = await rejectionOf(ai.chat.completions.create(bounded));
    expect(error).toMatchObject({ kind: 'budget_exceeded', limitName: 'tenant:tokens:minute', used: 0, requested: RESERVED, tenant: undefined });
    expect(server.requests).toHaveLength(0);
  });

  it('is never retried, never counted by the circuit breaker, and gives up with its own kind', async () => {
    const { server, ai } = await harness({
      tokens: { tokenizer: 'estimate' },
      budgets: { limits: [{ tokens: 50, window: 'minute' }] },
      retry: { maxRetries: 3 },
      circuitBreaker: { consecutiveFailures: 1 },
    });
    const giveUps: GiveUpEvent[] = [];
    ai.resilience.on('giveUp', (event) => giveUps.push(event));
    let retries = 0;
    ai.resilience.on('retry', () => retries++);
    for (let i = 0; i < 3; i++) await rejectionOf(ai.chat.completions.create(bounded));
    expect(retries).toBe(0);
    expect(giveUps.map((event) => event.kind)).toEqual(['budget_exceeded', 'budget_exceeded', 'budget_exceeded']);
    expect(Object.values(ai.resilience.circuits()).every((state) => state === 'closed')).toBe(true);
    expect(ai.resilience.stats().total.failures).toEqual({ budget_exceeded: 3 });
    expect(server.requests).toHaveLength(0);
  });

  it('cannot be made retryable through `actions`', async () => {
    await expect(harness({ tokens: { tokenizer: 'estimate' }, actions: { budget_exceeded: 'retry' } })).rejects.toThrow(/`actions.budget_exceeded`/);
  });

  it('does not fall back by default, and falls back when `fallback.on` lists `budget_exceeded`', async () => {
    const budgets = { limits: [{ tokens: 50, window: 'minute' as const, models: ['gpt-4.1-mini'] }] };
    const plain = await harness({ tokens: { tokenizer: 'estimate' }, budgets, fallback: { models: { 'gpt-4.1-mini': ['gpt-4.1-nano'] } } });
    expect(await rejectionOf(plain.ai.chat.completions.create(bounded))).toBeInstanceOf(BudgetExceededError);
    expect(plain.server.requests).toHaveLength(0);

    const asked = await harness({ tokens: { tokenizer: 'estimate' }, budgets, fallback: { models: { 'gpt-4.1-mini': ['gpt-4.1-nano'] }, on: ['budget_exceeded'] } });
    const completion = await asked.ai.chat.completions.create(bounded);
    expect(completion.choices[0]!.message.content).toBeTruthy();
    expect(asked.server.requests.map((request) => (request.body as { model: string }).model)).toEqual(['gpt-4.1-nano']);
  });

  it('`fallback.on` takes error kinds only', async () => {
    await expect(harness({ tokens: { tokenizer: 'estimate' }, fallback: { on: ['nope' as never] } })).rejects.toThrow(/`fallback.on\[0\]`/);
  });
});

describe('budgets: exact counts', () => {
  it('reserve the prompt as the tokenizer counts it (gpt-tokenizer installed, `tokens` left at auto), not the estimate', async () => {
    const exact = countTokens(bounded, bounded.model);
    expect(exact.input + 100).not.toBe(RESERVED);
    const { server, ai } = await harness({ budgets: { limits: [{ tokens: exact.input + 99, window: 'hour' }] } });
    const error = await rejectionOf(ai.chat.completions.create(bounded));
    expect(error).toMatchObject({ kind: 'budget_exceeded', requested: exact.input + 100, used: 0 });
    expect(server.requests).toHaveLength(0);
  });
});

describe('budgets: reservation and settlement', () => {
  it('settles a JSON answer with its usage: the reservation is replaced by total_tokens', async () => {
    const { server, ai } = await harness({ tokens: { tokenizer: 'estimate' }, budgets: { limits: [{ name: 'l', tokens: 1_000, window: 'hour' }] } });
    const settled: BudgetSettledEvent[] = [];
    ai.resilience.on('budgetSettled', (event) => settled.push(event));
    server.enqueue(faults.ok(completionWithUsage(30, 12)));
    await ai.chat.completions.create(bounded);
    await until(() => settled.length === 1);
    expect(settled[0]).toMatchObject({ amount: 42, used: 42, limit: 1_000, limitName: 'l' });
    expect(ai.resilience.stats().budgets['l']!.tenants['(no tenant)']).toMatchObject({ used: 42, remaining: 958, limit: 1_000, refusals: 0, models: { 'gpt-4.1-mini': { used: 42, refusals: 0 } } });
  });

  it('reserves the input and the output bound before sending (assumedOutputTokens without one)', async () => {
    const { ai } = await harness({ tokens: { tokenizer: 'estimate' }, budgets: { limits: [{ name: 'l', tokens: 1_000, window: 'hour' }], assumedOutputTokens: 500 } });
    const heldWhenSent: number[] = [];
    ai.resilience.on('attemptStart', () => heldWhenSent.push(ai.resilience.stats().budgets['l']!.tenants['(no tenant)']!.used));
    await ai.chat.completions.create(chatParams);
    await ai.chat.completions.create({ ...chatParams, max_completion_tokens: 40 });
    // The prompt is estimated at 3 tokens; the first call's answer settled to its usage before the second was sent.
    expect(heldWhenSent[0]).toBe(503);
    const settledFirst = heldWhenSent[1]! - 43;
    expect(settledFirst).toBeGreaterThan(0);
    expect(settledFirst).toBeLessThan(503);
  });

  it('settles embeddings with their usage, reserving no output for them', async () => {
    const { ai } = await harness({ tokens: { tokenizer: 'estimate' }, budgets: { limits: [{ name: 'l', tokens: 1_000, window: 'hour' }] } });
    const heldWhenSent: number[] = [];
    ai.resilience.on('attemptStart', () => heldWhenSent.push(ai.resilience.stats().budgets['l']!.tenants['(no tenant)']!.used));
    const answer = await ai.embeddings.create({ model: 'text-embedding-3-small', input: 'twelve chars' });
    expect(heldWhenSent).toEqual([3]);
    await until(() => ai.resilience.stats().budgets['l']!.tenants['(no tenant)']!.used === answer.usage.total_tokens);
  });

  it.each([
    ['a 429', () => faults.rateLimited({ retryAfterMs: 1 })],
    ['a 500', () => faults.serverError(500)],
    ['a 400', () => faults.badRequest()],
  ])('gives the whole reservation back after %s (not billed)', async (_name, fault) => {
    const { server, clock, ai } = await harness({ tokens: { tokenizer: 'estimate' }, budgets: { limits: [{ name: 'l', tokens: RESERVED, window: 'hour' }] }, retry: { maxRetries: 0 } });
    const settled: BudgetSettledEvent[] = [];
    ai.resilience.on('budgetSettled', (event) => settled.push(event));
    server.enqueue(fault());
    await rejectionOf(drive(clock, ai.chat.completions.create(bounded)));
    await until(() => settled.length === 1);
    expect(settled[0]!.amount).toBe(0);
    // The whole limit is free again: a call of the same size goes.
    server.enqueue(faults.ok(completionWithUsage(1, 1)));
    await ai.chat.completions.create(bounded);
    expect(server.requests).toHaveLength(2);
  });

  it('gives it back when the connection is refused', async () => {
    const { clock, ai } = await harness(
      { tokens: { tokenizer: 'estimate' }, budgets: { limits: [{ name: 'l', tokens: RESERVED, window: 'hour' }] }, retry: { maxRetries: 0 } },
      { baseURL: `http://127.0.0.1:${await closedPort()}/v1` },
    );
    const settled: BudgetSettledEvent[] = [];
    ai.resilience.on('budgetSettled', (event) => settled.push(event));
    const error = await rejectionOf(drive(clock, ai.chat.completions.create(bounded)));
    expect(classify(error).kind).toBe('connection');
    await until(() => settled.length === 1);
    expect(settled[0]!.amount).toBe(0);
    expect(ai.resilience.stats().budgets['l']!.tenants['(no tenant)']!.used).toBe(0);
  });

  it('keeps the reservation after a timeout once sent (it may have been billed)', async () => {
    const { server, clock, ai } = await harness({ tokens: { tokenizer: 'estimate' }, budgets: { limits: [{ name: 'l', tokens: 2 * RESERVED, window: 'hour' }] }, retry: { maxRetries: 0 }, timeout: { attempt: 1_000 } });
    const settled: BudgetSettledEvent[] = [];
    ai.resilience.on('budgetSettled', (event) => settled.push(event));
    server.enqueue(faults.stall());
    const call = rejectionOf(ai.chat.completions.create(bounded));
    await until(() => server.requests.length === 1);
    await clock.advance(1_000);
    expect(classify(await call).kind).toBe('timeout');
    await until(() => settled.length === 1);
    expect(settled[0]!.amount).toBe(RESERVED);
    expect(ai.resilience.stats().budgets['l']!.tenants['(no tenant)']!.used).toBe(RESERVED);
  });

  it('gives it back when our own policies refuse the attempt after the reservation (a full bulkhead)', async () => {
    const { server, ai } = await harness({ tokens: { tokenizer: 'estimate' }, budgets: { limits: [{ name: 'l', tokens: 2 * RESERVED, window: 'hour' }] }, bulkhead: { maxConcurrent: 1, maxQueued: 0 } });
    server.enqueue(faults.stall());
    const controller = new AbortController();
    const first = rejectionOf(ai.chat.completions.create(bounded, { signal: controller.signal }));
    await until(() => server.requests.length === 1);
    expect(classify(await rejectionOf(ai.chat.completions.create(bounded))).kind).toBe('bulkhead_full');
    await until(() => ai.resilience.stats().budgets['l']!.tenants['(no tenant)']!.used === RESERVED);
    controller.abort();
    await first;
    expect(server.requests).toHaveLength(1);
  });

  it('reserves per attempt: a retried call reserves again, and each failure not billed gives its part back', async () => {
    const { server, clock, ai } = await harness({ tokens: { tokenizer: 'estimate' }, budgets: { limits: [{ name: 'l', tokens: RESERVED, window: 'hour' }] }, retry: { maxRetries: 2, initialDelay: 10 } });
    server.enqueue(faults.serverError(503), faults.serverError(500), faults.ok(completionWithUsage(3, 4)));
    await drive(clock, ai.chat.completions.create(bounded));
    expect(server.requests).toHaveLength(3);
    await until(() => ai.resilience.stats().budgets['l']!.tenants['(no tenant)']!.used === 7);
  });

  it('many calls at once never take more than the limit: reservations are taken before sending', async () => {
    const { server, ai } = await harness({ tokens: { tokenizer: 'estimate' }, budgets: { limits: [{ tokens: 10 * RESERVED + 50, window: 'hour' }] } });
    const results = await Promise.allSettled(Array.from({ length: 30 }, () => ai.chat.completions.create(bounded)));
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(10);
    expect(results.filter((result) => result.status === 'rejected' && isBudgetExceededError(result.reason))).toHaveLength(20);
    expect(server.requests).toHaveLength(10);
  });
});

describe('budgets: tenants and models', () => {
  it('a client limit counts every tenant together; a tenant limit each apart, with per-tenant overrides', async () => {
    const { server, ai } = await harness({
      tokens: { tokenizer: 'estimate' },
      budgets: {
        limits: [
          { name: 'client', per: 'client', tokens: 4 * RESERVED, window: 'day' },
          { name: 'tenant', tokens: RESERVED, window: 'day', tenants: { big: 2 * RESERVED } },
        ],
      },
    });
    server.enqueue(...Array.from({ length: 4 }, () => faults.ok(completionWithUsage(3, 100))));
    const call = (tenant: string) => ai.resilience.forTenant(tenant).chat.completions.create(bounded).then(() => 'ok', (error) => (error as BudgetExceededError).limitName);
    expect(await call('a')).toBe('ok');
    expect(await call('a')).toBe('tenant');
    expect(await call('big')).toBe('ok');
    expect(await call('big')).toBe('ok');
    expect(await call('big')).toBe('tenant');
    expect(await call('b')).toBe('ok');
    expect(await call('c')).toBe('client');
    expect(server.requests).toHaveLength(4);
    const stats = ai.resilience.stats().budgets;
    expect(Object.keys(stats['tenant']!.tenants).sort()).toEqual(['a', 'b', 'big', 'c']);
    expect(stats['tenant']!.tenants['big']).toMatchObject({ limit: 2 * RESERVED, refusals: 1 });
    expect(stats['client']!.tenants['(client)']).toMatchObject({ limit: 4 * RESERVED, refusals: 1 });
  });

  it('a limit with `models` counts only calls to those models', async () => {
    const { server, ai } = await harness({ tokens: { tokenizer: 'estimate' }, budgets: { limits: [{ tokens: RESERVED, window: 'day', models: ['gpt-4.1-mini'] }] } });
    await ai.chat.completions.create(bounded);
    expect(await rejectionOf(ai.chat.completions.create(bounded))).toBeInstanceOf(BudgetExceededError);
    await ai.chat.completions.create({ ...bounded, model: 'gpt-4.1-nano' });
    await ai.chat.completions.create({ ...bounded, model: 'gpt-4.1-nano' });
    expect(server.requests).toHaveLength(3);
  });
});

function completionWithUsage(prompt: number, completion: number, cached = 0) {
  return {
    id: 'chatcmpl-1', object: 'chat.completion', created: 0, model: 'gpt-4.1-mini',
    choices: [{ index: 0, message: { role: 'assistant', content: 'ok', refusal: null }, finish_reason: 'stop', logprobs: null }],
    usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, prompt_tokens_details: { cached_tokens: cached } },
  };
}

/** A loopback port nothing listens on (a server's, once closed): connecting to it is refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Polls `condition` while promises settle (the ledger answers asynchronously); fails after 2 s. */
async function until(condition: () => boolean): Promise<void> {
  const giveUpAt = Date.now() + 2000;
  while (!condition()) {
    if (Date.now() > giveUpAt) throw new Error('condition not met within 2 s');
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

