import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { BudgetExceededError, classify, DEFAULT_ACTIONS, isBudgetExceededError, isResilienceError, ResilienceError } from '../../src/index.js';
import { NEVER_RETRIED } from '../../src/errors/error-kind.js';

const details = {
  limitName: 'daily', per: 'tenant' as const, metric: 'tokens' as const, limit: 1_000, used: 990, requested: 50,
  resetsAt: new Date(Date.UTC(2026, 11, 8)), tenant: 'acme', model: 'gpt-4.1-mini',
};

describe('BudgetExceededError', () => {
  it('is a ResilienceError of kind budget_exceeded, failed and never retried by default', () => {
    const error = new BudgetExceededError(details);
    expect(error).toBeInstanceOf(ResilienceError);
    expect(error).toBeInstanceOf(OpenAI.OpenAIError);
    expect(isResilienceError(error)).toBe(true);
    expect(isBudgetExceededError(error)).toBe(true);
    expect(isBudgetExceededError(new Error('x'))).toBe(false);
    expect(classify(error, { actions: { budget_exceeded: 'retry' } })).toMatchObject({ kind: 'budget_exceeded', action: 'fail' });
    expect(DEFAULT_ACTIONS.budget_exceeded).toBe('fail');
    expect(NEVER_RETRIED.has('budget_exceeded')).toBe(true);
  });

  it('carries the limit, the usage, the request and the reset, and says them without a prompt or a key', () => {
    const error = new BudgetExceededError(details);
    expect(error).toMatchObject({ name: 'BudgetExceededError', limitName: 'daily', per: 'tenant', metric: 'tokens', limit: 1_000, used: 990, requested: 50, tenant: 'acme', model: 'gpt-4.1-mini' });
    expect(error.resetsAt.toISOString()).toBe('2026-12-08T00:00:00.000Z');
    expect(error.message).toBe('Budget "daily" of tenant "acme" has 990 tokens of 1000 tokens used; this call to "gpt-4.1-mini" needs 50 tokens. It resets by 2026-12-08T00:00:00.000Z; not sent.');
  });

  it('is recognised across package copies by its brand and kind', () => {
    const foreign = Object.assign(Object.create(null), { kind: 'budget_exceeded', [Symbol.for('openai-resilient.ResilienceError')]: true });
    expect(isBudgetExceededError(foreign)).toBe(true);
  });
});
