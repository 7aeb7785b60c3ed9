import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { TRAFFIC_CLASS_HEADER, type CallStartEvent } from '../../src/index.js';
import { chatParams, harness, rejectionOf } from '../support/harness.js';

/** The classes of the calls `ai` starts, in order. */
function classesSeen(ai: { resilience: { on(event: 'callStart', listener: (event: CallStartEvent) => void): unknown } }): string[] {
  const seen: string[] = [];
  ai.resilience.on('callStart', (event) => seen.push(event.trafficClass));
  return seen;
}

describe('traffic classes: declaring a class', () => {
  it('calls are of the default class unless a view or the request declares another', async () => {
    const { ai } = await harness();
    const seen = classesSeen(ai);
    await ai.chat.completions.create(chatParams);
    expect(seen).toEqual(['default']);
  });

  it('forClass() views carry their class, are cached, and compose with forTenant() and withOptions()', async () => {
    const { ai } = await harness();
    const starts: CallStartEvent[] = [];
    ai.resilience.on('callStart', (event) => starts.push(event));
    const background = ai.resilience.forClass('background');
    expect(background).toBeInstanceOf(OpenAI);
    expect(ai.resilience.forClass('background')).toBe(background);
    expect(ai.resilience.forClass('default')).toBe(ai);
    expect(background.resilience.forClass('background')).toBe(background);

    await background.chat.completions.create(chatParams);
    await background.resilience.forTenant('acme').chat.completions.create(chatParams);
    await ai.resilience.forTenant('acme').resilience.forClass('interactive').chat.completions.create(chatParams);
    await background.withOptions({ maxRetries: 1 }).chat.completions.create(chatParams);
    await background.resilience.forClass('default').chat.completions.create(chatParams);
    expect(starts.map((event) => [event.tenant, event.trafficClass])).toEqual([
      [undefined, 'background'],
      ['acme', 'background'],
      ['acme', 'interactive'],
      [undefined, 'background'],
      [undefined, 'default'],
    ]);
  });

  it(`a request declares its class with the ${TRAFFIC_CLASS_HEADER} header, which never reaches the server`, async () => {
    const { server, ai } = await harness();
    const seen = classesSeen(ai);
    await ai.chat.completions.create(chatParams, { headers: { [TRAFFIC_CLASS_HEADER]: 'interactive', 'x-kept': 'yes' } });
    await ai.chat.completions.create(chatParams, { headers: new Headers({ 'X-OpenAI-Resilient-Class': 'background' }) });
    await ai.chat.completions.create(chatParams, { headers: [['x-openai-resilient-class', 'background']] as never });
    // The request's class wins over its view's; `null` (the SDK's "no such header") declares none.
    const background = ai.resilience.forClass('background');
    await background.chat.completions.create(chatParams, { headers: { [TRAFFIC_CLASS_HEADER]: 'interactive' } });
    await background.chat.completions.create(chatParams, { headers: { [TRAFFIC_CLASS_HEADER]: null } });
    expect(seen).toEqual(['interactive', 'background', 'background', 'interactive', 'background']);

    expect(server.requests).toHaveLength(5);
    for (const request of server.requests) {
      expect(Object.keys(request.headers).filter((name) => name.includes('resilient'))).toEqual([]);
      expect(JSON.stringify(request.headers)).not.toMatch(/interactive|background/);
    }
    expect(server.requests[0]!.headers['x-kept']).toBe('yes');
  });

  it("a list's next pages keep the class its first request declared, and never send it", async () => {
    const { server, ai } = await harness();
    const seen = classesSeen(ai);
    const ids: string[] = [];
    for await (const file of ai.files.list({ limit: 2 }, { headers: { [TRAFFIC_CLASS_HEADER]: 'background' } })) ids.push(file.id);
    expect(ids).toEqual(['file-1', 'file-2', 'file-3', 'file-4', 'file-5']);
    expect(seen).toEqual(['background', 'background', 'background']);
    expect(server.requestsTo('/files').map((request) => request.headers[TRAFFIC_CLASS_HEADER])).toEqual([undefined, undefined, undefined]);
  });

  it('an unknown class is a TypeError naming it: at view creation, and per request at call time without a request', async () => {
    const { server, ai } = await harness();
    expect(() => ai.resilience.forClass('urgent' as never)).toThrow(TypeError);
    expect(() => ai.resilience.forClass('urgent' as never)).toThrow(/`forClass\(trafficClass\)` must be one of 'interactive', 'default', 'background', got "urgent"/);
    expect(() => ai.resilience.forClass(1 as never)).toThrow(/got number/);

    const error = await rejectionOf(ai.chat.completions.create(chatParams, { headers: { [TRAFFIC_CLASS_HEADER]: 'Interactive' } }));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toContain(`\`${TRAFFIC_CLASS_HEADER}\` must be one of`);
    expect(error.message).toContain('"Interactive"');
    expect(server.requests).toHaveLength(0);
  });
});
