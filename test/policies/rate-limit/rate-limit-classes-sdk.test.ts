import { describe, expect, it, vi } from 'vitest';
import type { TrafficClass } from '../../../src/core/traffic-class.js';
import { chatParams, harness, until } from '../../support/harness.js';

// Until views and requests declare a class (issue 26), the test gives each call the class its message
// names ("<class> <n>"), in the context `enterGuards` receives: the rest of the pipeline is the real one.
vi.mock('../../../src/pipeline/attempt-guards.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../../src/pipeline/attempt-guards.js')>();
  const classOf = (body: unknown): TrafficClass => {
    const content = (body as { messages?: Array<{ content?: unknown }> } | undefined)?.messages?.[0]?.content;
    return typeof content === 'string' && content.startsWith('interactive') ? 'interactive' : 'background';
  };
  return {
    ...original,
    enterGuards: (ctx: Parameters<typeof original.enterGuards>[0], ...rest: Parameters<typeof original.enterGuards> extends [unknown, ...infer R] ? R : never) =>
      original.enterGuards({ ...ctx, trafficClass: classOf(rest[1].body) }, ...rest),
  };
});

const params = (content: string) => ({ ...chatParams, messages: [{ role: 'user' as const, content }] });

describe('rate limiter: traffic classes through the SDK', () => {
  it('an interactive call made behind ten waiting background calls is the next request the server gets', async () => {
    const { server, clock, ai } = await harness({ rateLimit: { requestsPerMinute: 60, learn: false } });
    let waiting = 0;
    ai.resilience.on('rateLimitWait', () => waiting++);
    const background = Array.from({ length: 10 }, (_, index) => ai.chat.completions.create(params(`background ${index}`)));
    await clock.until(() => waiting === 9);
    const interactive = ai.chat.completions.create(params('interactive'));
    await clock.until(() => waiting === 10);
    await until(() => server.requests.length === 1);
    await clock.advance(1_000);
    expect((await interactive).object).toBe('chat.completion');
    await until(() => server.requests.length === 2);
    for (let second = 0; second < 9; second++) await clock.advance(1_000);
    await Promise.all(background);
    const order = server.requests.map((request) => (request.body as { messages: Array<{ content: string }> }).messages[0]!.content);
    expect(order).toEqual(['background 0', 'interactive', ...Array.from({ length: 9 }, (_, index) => `background ${index + 1}`)]);
  });
});
