import { describe, expect, it } from 'vitest';
import { BufferedResponse, NOT_PARSED } from '../../src/responses/buffered-response.js';
import { chatParams, harness } from '../support/harness.js';

const init = { status: 200, statusText: 'OK', headers: new Headers({ 'content-type': 'application/json' }) };
const text = '{"answer":42}';

describe('BufferedResponse', () => {
  it('answers json() with the parsed body it was given, and text() with the text', async () => {
    const parsed = { answer: 42 };
    expect(await new BufferedResponse(text, parsed, init, '').json()).toBe(parsed);
    expect(await new BufferedResponse(text, parsed, init, '').text()).toBe(text);
    expect(await new BufferedResponse(text, undefined, init, '').json()).toEqual({ answer: 42 });
  });

  it('is still a complete Response: status, headers, url, body stream, arrayBuffer, blob', async () => {
    const response = new BufferedResponse(text, { answer: 42 }, init, 'http://127.0.0.1/v1/x');
    expect(response).toBeInstanceOf(Response);
    expect([response.status, response.ok, response.headers.get('content-type'), response.url]).toEqual([200, true, 'application/json', 'http://127.0.0.1/v1/x']);
    expect(await new Response(response.body).text()).toBe(text);
    expect(response.bodyUsed).toBe(true);
    expect(new TextDecoder().decode(await new BufferedResponse(text, undefined, init, '').arrayBuffer())).toBe(text);
    expect(await (await new BufferedResponse(text, undefined, init, '').blob()).text()).toBe(text);
  });

  it('can be read once, like any Response; a clone reads again', async () => {
    const response = new BufferedResponse(text, { answer: 42 }, init, '');
    const copy = response.clone();
    expect(response.bodyUsed).toBe(false);
    await response.json();
    expect(response.bodyUsed).toBe(true);
    await expect(response.text()).rejects.toThrow(TypeError);
    expect(() => response.clone()).toThrow(TypeError);
    expect(response.body).toBeNull();
    expect(await copy.text()).toBe(text);
  });

  it('takeJson() hands over the parsed body once, as json() would, and nothing else', async () => {
    const parsed = { answer: 42 };
    const response = new BufferedResponse(text, parsed, init, '');
    expect(BufferedResponse.takeJson(response)).toBe(parsed);
    expect(response.bodyUsed).toBe(true);
    expect(BufferedResponse.takeJson(response)).toBe(NOT_PARSED);
    await expect(response.json()).rejects.toThrow(TypeError);
    const read = new BufferedResponse(text, parsed, init, '');
    await read.text();
    expect(BufferedResponse.takeJson(read)).toBe(NOT_PARSED);
    const streamed = new BufferedResponse(text, parsed, init, '');
    void streamed.body;
    expect(BufferedResponse.takeJson(streamed)).toBe(NOT_PARSED);
    expect(BufferedResponse.takeJson(new BufferedResponse(text, undefined, init, ''))).toBe(NOT_PARSED);
    expect(BufferedResponse.takeJson(new Response(text, init))).toBe(NOT_PARSED);
  });

  it('a clone parses its own object: changing what one json() gives never changes the other', async () => {
    const response = new BufferedResponse(text, { answer: 42 }, init, '');
    const copy = (await response.clone().json()) as { answer: number };
    copy.answer = 0;
    expect(await response.json()).toEqual({ answer: 42 });
  });

  it("asResponse().clone() gives an independent copy, as the bare SDK's native Response does", async () => {
    const { ai, raw } = await harness();
    for (const client of [raw, ai]) {
      const response = await client.chat.completions.create(chatParams).asResponse();
      const copy = (await response.clone().json()) as { id: string };
      copy.id = 'mutated';
      expect(((await response.json()) as { id: string }).id, client === ai ? 'resilient' : 'bare').not.toBe('mutated');
    }
  });

  it("is what asResponse() and withResponse() give the SDK's caller", async () => {
    const { ai } = await harness();
    const raw = await ai.chat.completions.create(chatParams).asResponse();
    const fromStream = JSON.parse(await new Response(raw.body).text()) as { object: string };
    expect(fromStream.object).toBe('chat.completion');
    const { data, response } = await ai.chat.completions.create(chatParams).withResponse();
    expect(data.object).toBe('chat.completion');
    expect(response.headers.get('x-request-id')).toMatch(/^req_/);
    expect((data as { _request_id?: string })._request_id).toBe(response.headers.get('x-request-id'));
  });
});
