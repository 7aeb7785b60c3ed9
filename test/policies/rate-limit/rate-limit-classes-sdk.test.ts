import { describe, expect, it } from 'vitest';
import { chatParams, harness, until } from '../../support/harness.js';

const params = (content: string) => ({ ...chatParams, messages: [{ role: 'user' as const, content }] });
const messageOf = (body: unknown): string => (body as { messages: Array<{ content: string }> }).messages[0]!.content;

describe('rate limiter: traffic classes through the SDK', () => {
  it('an interactive call made behind ten waiting background calls is the next request the server gets', async () => {
    const { server, clock, ai } = await harness({ rateLimit: { requestsPerMinute: 60, learn: false } });
    let waiting = 0;
    ai.resilience.on('rateLimitWait', () => waiting++);
    const background = Array.from({ length: 10 }, (_, index) => ai.resilience.forClass('background').chat.completions.create(params(`background ${index}`)));
    await clock.until(() => waiting === 9);
    const interactive = ai.resilience.forClass('interactive').chat.completions.create(params('interactive'));
    await clock.until(() => waiting === 10);
    await until(() => server.requests.length === 1);
    await clock.advance(1_000);
    expect((await interactive).object).toBe('chat.completion');
    await until(() => server.requests.length === 2);
    for (let second = 0; second < 9; second++) await clock.advance(1_000);
    await Promise.all(background);
    const order = server.requests.map((request) => messageOf(request.body));
    expect(order).toEqual(['background 0', 'interactive', ...Array.from({ length: 9 }, (_, index) => `background ${index + 1}`)]);
  });
});
