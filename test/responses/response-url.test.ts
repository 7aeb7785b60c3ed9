import { describe, expect, it } from 'vitest';
import { keepUrl } from '../../src/responses/response-url.js';

describe('keepUrl', () => {
  it("gives a response built in code the upstream's url, and returns that same response", () => {
    const response = new Response('{}');
    expect(response.url).toBe('');
    const kept = keepUrl(response, 'https://api.openai.com/v1/chat/completions');
    expect(kept).toBe(response);
    expect(kept.url).toBe('https://api.openai.com/v1/chat/completions');
  });

  it("leaves the response's own empty url when the upstream had none", () => {
    const response = keepUrl(new Response('{}'), '');
    expect(response.url).toBe('');
    expect(Object.getOwnPropertyNames(response)).not.toContain('url');
  });
});
