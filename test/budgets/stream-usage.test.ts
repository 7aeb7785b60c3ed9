import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { faults } from '../../src/testing/index.js';
import { resilient, type BudgetSettledEvent } from '../../src/index.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { chatParams, harness, rejectionOf } from '../support/harness.js';

const budgets = { limits: [{ name: 'l', tokens: 100_000, window: 'hour' as const }] };

/** The chunks a caller reads from a chat stream, without `created` (the server's clock). */
async function chunksOf(stream: AsyncIterable<object>): Promise<object[]> {
  const chunks: object[] = [];
  for await (const chunk of stream) {
    const { created: _created, ...rest } = chunk as { created?: unknown };
    chunks.push(rest);
  }
  return chunks;
}

/** The budget's settlements, as they come. */
function settlements(ai: { resilience: { on: (event: 'budgetSettled', listener: (event: BudgetSettledEvent) => void) => unknown } }): BudgetSettledEvent[] {
  const settled: BudgetSettledEvent[] = [];
  ai.resilience.on('budgetSettled', (event) => settled.push(event));
  return settled;
}

describe('budgets and chat streams: usage asked for, and hidden from the caller', () => {
  it('asks for include_usage when the caller did not, settles with it, and the caller sees exactly the stream it would without budgets', async () => {
    const plain = await harness();
    const withBudgets = await harness({ tokens: { tokenizer: 'estimate' }, budgets });
    const settled = settlements(withBudgets.ai);
    const params = { ...chatParams, stream: true as const };
    const expected = await chunksOf(await plain.ai.chat.completions.create(params));
    const seen = await chunksOf(await withBudgets.ai.chat.completions.create(params));
    expect(seen).toEqual(expected);
    expect(seen.some((chunk) => 'usage' in chunk)).toBe(false);
    // The server was asked for the usage; the caller's params are untouched.
    expect((withBudgets.server.requests[0]!.body as { stream_options?: unknown }).stream_options).toEqual({ include_usage: true });
    expect((plain.server.requests[0]!.body as { stream_options?: unknown }).stream_options).toBeUndefined();
    expect(params).not.toHaveProperty('stream_options');
    await until(() => settled.length === 1);
    // The fault server's usage chunk: its prompt estimate plus the 3 deltas' tokens.
    expect(settled[0]!.amount).toBeGreaterThan(0);
    expect(settled[0]!.amount).not.toBe(3 + 1024);
  });

  it('keeps the caller’s other stream_options, and leaves a caller who asked for the usage with the usage', async () => {
    const plain = await harness();
    const withBudgets = await harness({ tokens: { tokenizer: 'estimate' }, budgets });
    const settled = settlements(withBudgets.ai);
    const params = { ...chatParams, stream: true as const, stream_options: { include_usage: true } };
    const expected = await chunksOf(await plain.ai.chat.completions.create(params));
    const seen = await chunksOf(await withBudgets.ai.chat.completions.create(params));
    expect(seen).toEqual(expected);
    expect(seen.at(-1)).toMatchObject({ choices: [], usage: { total_tokens: expect.any(Number) } });
    await until(() => settled.length === 1);
    expect(settled[0]!.amount).toBe((seen.at(-1) as { usage: { total_tokens: number } }).usage.total_tokens);

    const other = await harness({ tokens: { tokenizer: 'estimate' }, budgets });
    await chunksOf(await other.ai.chat.completions.create({ ...chatParams, stream: true, stream_options: { include_obfuscation: false } }));
    expect((other.server.requests[0]!.body as { stream_options?: unknown }).stream_options).toEqual({ include_obfuscation: false, include_usage: true });
  });

  it('asks for nothing without budgets, nor for a model no limit counts', async () => {
    const { server, ai } = await harness({ tokens: { tokenizer: 'estimate' }, budgets: { limits: [{ tokens: 1_000, window: 'hour', models: ['other-model'] }] } });
    await chunksOf(await ai.chat.completions.create({ ...chatParams, stream: true }));
    expect((server.requests[0]!.body as { stream_options?: unknown }).stream_options).toBeUndefined();
  });

  it('a stream cut midway keeps its reservation (it may have been billed)', async () => {
    const { server, ai } = await harness({ tokens: { tokenizer: 'estimate' }, budgets, retry: { maxRetries: 0 } });
    const settled = settlements(ai);
    server.enqueue(faults.stream({ dropAfter: 2 }));
    const stream = await ai.chat.completions.create({ ...chatParams, stream: true, max_tokens: 50 });
    await rejectionOf(chunksOf(stream));
    await until(() => settled.length === 1);
    expect(settled[0]!.amount).toBe(3 + 50);
  });
});

describe('budgets and a continued chat stream (streaming.continuation)', () => {
  it('the continuation, sent with the usage asked for, hides it from the caller too; the reservations are kept', async () => {
    const { server, ai } = await harness({ tokens: { tokenizer: 'estimate' }, budgets, streaming: { continuation: 'prefix' } });
    const settled = settlements(ai);
    server.enqueue(faults.stream({ chunks: 8, words: 'numbered', dropAfter: 4 }), faults.stream({ chunks: 8, words: 'numbered' }));
    const seen = await chunksOf(await ai.chat.completions.create({ ...chatParams, stream: true, max_tokens: 50 }));
    expect(server.requests).toHaveLength(2);
    expect(server.requests.map((request) => (request.body as { stream_options?: unknown }).stream_options)).toEqual([{ include_usage: true }, { include_usage: true }]);
    expect(seen.some((chunk) => 'usage' in chunk)).toBe(false);
    expect(seen.every((chunk) => (chunk as { choices: unknown[] }).choices.length > 0)).toBe(true);
    // Both requests were sent, and may have been billed: each holds its reservation (or its usage).
    await until(() => settled.length === 2);
    expect(settled.every((event) => event.amount > 0)).toBe(true);
  });
});

describe('budgets and an OpenAI-shaped chat stream from a server of its own', () => {
  const servers: ReturnType<typeof createServer>[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  });

  /**
   * A server that streams as the API does, byte for byte: with `include_usage`, `"usage":null` on every
   * chunk and a last chunk with `"choices":[]` and the usage; CRLF line endings, one event split over two writes.
   */
  async function apiLikeServer({ refuseStreamOptions = false } = {}): Promise<{ url: string; bodies: unknown[] }> {
    const bodies: unknown[] = [];
    const server = createServer((request: IncomingMessage, response: ServerResponse) => {
      let text = '';
      request.on('data', (part: Buffer) => (text += part.toString()));
      request.on('end', () => {
        const body = JSON.parse(text) as { stream_options?: { include_usage?: boolean } };
        bodies.push(body);
        if (refuseStreamOptions && body.stream_options !== undefined) {
          // As an older Azure OpenAI deployment (and some OpenAI-compatible servers) answer a field they do not know.
          response.writeHead(400, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ error: { message: 'Unrecognized request argument supplied: stream_options', type: 'invalid_request_error', param: null, code: null } }));
          return;
        }
        const usage = body.stream_options?.include_usage === true;
        const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
          `data: ${JSON.stringify({ id: 'chatcmpl-9', object: 'chat.completion.chunk', created: 1, model: 'gpt-4.1-mini', system_fingerprint: null, choices, ...(usage ? { usage: null } : {}), ...extra })}\r\n\r\n`;
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        const first = chunk([{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]);
        response.write(first.slice(0, 20));
        response.write(first.slice(20));
        response.write(chunk([{ index: 0, delta: { content: 'Hi "usage" there' }, logprobs: null, finish_reason: null }]));
        response.write(chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]));
        if (usage) {
          response.write(
            `data: ${JSON.stringify({ id: 'chatcmpl-9', object: 'chat.completion.chunk', created: 1, model: 'gpt-4.1-mini', choices: [], usage: { prompt_tokens: 11, completion_tokens: 4, total_tokens: 15, prompt_tokens_details: { cached_tokens: 0 } } })}\r\n\r\n`,
          );
        }
        response.end('data: [DONE]\r\n\r\n');
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, bodies };
  }

  it('the caller reads the same chunks with and without budgets, and the budget settles at the reported 15 tokens', async () => {
    const { url, bodies } = await apiLikeServer();
    const client = () => new OpenAI({ apiKey: 'sk-test', baseURL: url, maxRetries: 0 });
    const clock = new FakeClock(1_700_000_000_000);
    const plain = resilient(client(), { clock });
    const ai = resilient(client(), { clock, budgets, tokens: { tokenizer: 'estimate' } });
    const settled = settlements(ai);
    const expected = await chunksOf(await plain.chat.completions.create({ ...chatParams, stream: true }));
    const seen = await chunksOf(await ai.chat.completions.create({ ...chatParams, stream: true }));
    expect(seen).toEqual(expected);
    expect(seen).toHaveLength(3);
    expect(bodies.map((body) => (body as { stream_options?: unknown }).stream_options)).toEqual([undefined, { include_usage: true }]);
    await until(() => settled.length === 1);
    expect(settled[0]!.amount).toBe(15);
    expect(ai.resilience.stats().total.usage.totalTokens).toBe(15);
  });

  it('a server that refuses stream_options: the stream goes again at once as the caller made it (not one of its retries), and that model is asked no more at once as the caller made it (not one of its retries), and asks that model no more', async () => {
    const { url, bodies } = await apiLikeServer({ refuseStreamOptions: true });
    const clock = new FakeClock(1_700_000_000_000);
    const ai = resilient(new OpenAI({ apiKey: 'sk-test', baseURL: url, maxRetries: 0 }), { clock, budgets, tokens: { tokenizer: 'estimate' } });
    const settled = settlements(ai);
    const retries: string[] = [];
    ai.resilience.on('retry', (event) => retries.push(event.delaySource));
    const seen = await chunksOf(await ai.chat.completions.create({ ...chatParams, stream: true }));
    expect(seen).toHaveLength(3);
    expect(bodies.map((body) => (body as { stream_options?: unknown }).stream_options)).toEqual([{ include_usage: true }, undefined]);
    expect(retries).toEqual(['stream_options']);
    // No usage settles it: the stream keeps its reservation (the refused attempt gave its own back).
    await until(() => settled.length === 2);
    expect(settled.map((event) => event.amount)).toEqual([0, 3 + 1024]);

    await chunksOf(await ai.chat.completions.create({ ...chatParams, stream: true }));
    expect(bodies).toHaveLength(3);
    expect(bodies[2]).not.toHaveProperty('stream_options');
  });

  it("a server that refuses stream_options: the caller's own stream_options are kept when the request goes again", async () => {
    const { url, bodies } = await apiLikeServer({ refuseStreamOptions: true });
    const ai = resilient(new OpenAI({ apiKey: 'sk-test', baseURL: url, maxRetries: 0 }), { budgets, tokens: { tokenizer: 'estimate' } });
    // The caller's own (hypothetical) option stays as they set it; the server refuses it then, as it would without budgets.
    const error = await rejectionOf(ai.chat.completions.create({ ...chatParams, stream: true, stream_options: { include_obfuscation: false } as never }));
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(bodies.map((body) => (body as { stream_options?: unknown }).stream_options)).toEqual([
      { include_obfuscation: false, include_usage: true },
      { include_obfuscation: false },
    ]);
  });
});

describe('budgets and Responses streams', () => {
  it('settles with the usage of response.completed, asking for nothing', async () => {
    const { server, ai } = await harness({ tokens: { tokenizer: 'estimate' }, budgets });
    const settled = settlements(ai);
    const stream = await ai.responses.create({ model: 'gpt-4.1-mini', input: 'hi', stream: true });
    let usage: { total_tokens: number } | undefined;
    for await (const event of stream) if (event.type === 'response.completed') usage = event.response.usage ?? undefined;
    expect(usage).toBeDefined();
    expect(server.requests[0]!.body).not.toHaveProperty('stream_options');
    await until(() => settled.length === 1);
    expect(settled[0]!.amount).toBe(usage!.total_tokens);
  });
});

/** Polls `condition` while promises settle; fails after 2 s. */
async function until(condition: () => boolean): Promise<void> {
  const giveUpAt = Date.now() + 2000;
  while (!condition()) {
    if (Date.now() > giveUpAt) throw new Error('condition not met within 2 s');
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
