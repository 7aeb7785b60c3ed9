import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { accountScope, type ClientView } from '../../src/core/account-scope.js';
import { chatParams, harness, rejectionOf } from '../support/harness.js';

/** A chat request the default rule caches (`temperature: 0`). */
const cached = { ...chatParams, temperature: 0 };

describe('the account a cached call is keyed by', () => {
  it('with an `apiKey` function, is the key this call is sent with, not the key of the previous call', async () => {
    // One client, keys picked per call (e.g. per user from AsyncLocalStorage), as the SDK allows.
    let current = 'sk-user-a';
    const { server, ai } = await harness({ cache: true }, { apiKey: async () => current });
    const a = await ai.chat.completions.create(cached);
    current = 'sk-user-b';
    const b = await ai.chat.completions.create(cached);
    // The bare SDK sends user B's request with user B's key; the answer is not user A's cached one.
    expect(server.requests.map((request) => request.headers['authorization'])).toEqual(['Bearer sk-user-a', 'Bearer sk-user-b']);
    expect(b.id).not.toBe(a.id);
    // Each key still has its own entry.
    current = 'sk-user-a';
    expect((await ai.chat.completions.create(cached)).id).toBe(a.id);
    current = 'sk-user-b';
    expect((await ai.chat.completions.create(cached)).id).toBe(b.id);
    expect(server.requests).toHaveLength(2);
  });

  it('with an `apiKey` function that fails, is unknown: the call fails as with the bare SDK, never answered from the cache', async () => {
    let fail = false;
    const { server, ai } = await harness({ cache: true, retry: false }, {
      apiKey: async () => {
        if (fail) throw new Error('vault unreachable');
        return 'sk-user-a';
      },
    });
    await ai.chat.completions.create(cached);
    fail = true;
    const error = await rejectionOf(ai.chat.completions.create(cached));
    expect(error).toBeInstanceOf(OpenAI.OpenAIError);
    expect(String(error)).toContain('vault unreachable');
    expect(server.requests).toHaveLength(1);
  });

  it('is unknown for a client without an API key (a workload identity, a provider): such calls are cached only for a tenant', async () => {
    const ctx = { client: { apiKey: null, _options: {} }, baseURL: 'https://api.openai.com/v1' } as ClientView;
    expect(await accountScope(ctx)).toEqual({ account: expect.objectContaining({ baseURL: ctx.baseURL }), keyed: false });
    const keyed = { ...ctx, client: { apiKey: 'sk-a', _options: { apiKey: 'sk-a' } } } as ClientView;
    expect((await accountScope(keyed))?.keyed).toBe(true);
  });
});
