import OpenAI from 'openai';
import { describe, expect, it, vi } from 'vitest';
import { chatCompletion, faults, startFaultServer } from '../../src/testing/index.js';
import { redact, resilient, type ResilienceOptions } from '../../src/index.js';
import { chatParams, drive, harness, rejectionOf } from '../support/harness.js';

function recordingLogger() {
  const lines: Array<{ level: string; args: unknown[] }> = [];
  const logger = Object.fromEntries(
    ['debug', 'info', 'warn', 'error'].map((level) => [level, (...args: unknown[]) => void lines.push({ level, args })]),
  ) as Required<Pick<Console, 'debug' | 'info' | 'warn' | 'error'>>;
  return { logger, lines };
}

const SECRET_PROMPT = 'my secret prompt text 42';
const params = { ...chatParams, messages: [{ role: 'user' as const, content: SECRET_PROMPT }] };

async function logged(options: ResilienceOptions, ...scripted: Parameters<Awaited<ReturnType<typeof harness>>['server']['enqueue']>) {
  const recording = recordingLogger();
  const h = await harness({ ...options, logger: recording.logger });
  h.server.enqueue(...scripted);
  await rejectionOf(drive(h.clock, h.ai.chat.completions.create(params).then(() => Promise.reject(new Error('done')))));
  return { ...h, ...recording };
}

describe('logger', () => {
  it('logs each decision with a readable message and details', async () => {
    const { lines } = await logged({ logLevel: 'info' }, faults.serverError(500));
    const retry = lines.find((line) => String(line.args[0]).includes('retrying'));
    expect(retry).toMatchObject({ level: 'info' });
    expect(retry!.args[0]).toBe('openai-resilient: gpt-4.1-mini: server_error (500) on attempt 1, retrying in 500 ms (backoff)');
    expect(retry!.args[1]).toMatchObject({ model: 'gpt-4.1-mini', endpoint: 'POST /chat/completions', attempt: 1, delay: 500 });
  });

  it("names a call's traffic class when it is not the default one", async () => {
    const recording = recordingLogger();
    const h = await harness({ logger: recording.logger, logLevel: 'info' });
    h.server.enqueue(faults.serverError(500));
    await drive(h.clock, h.ai.resilience.forClass('background').chat.completions.create(params));
    h.server.enqueue(faults.serverError(500));
    await drive(h.clock, h.ai.chat.completions.create(params));
    const retries = recording.lines.filter((line) => String(line.args[0]).includes('retrying'));
    expect(retries).toHaveLength(2);
    expect(retries[0]!.args[1]).toMatchObject({ trafficClass: 'background' });
    expect(retries[1]!.args[1]).not.toHaveProperty('trafficClass');
  });

  it('never logs the API key or the prompt, even from a 401 that echoes the key', async () => {
    const { lines } = await logged(
      { logLevel: 'debug', retry: { maxRetries: 0 } },
      faults.unauthorized({ message: 'Incorrect API key provided: sk-test-key. You can find your API key at https://platform.openai.com/account/api-keys.' }),
    );
    const text = JSON.stringify(lines);
    expect(lines.some((line) => line.level === 'warn')).toBe(true);
    expect(text).toContain('authentication');
    expect(text).not.toContain('sk-test-key');
    expect(text).not.toContain(SECRET_PROMPT);
    expect(text).toContain('sk-***');
  });

  it('logs a chat stream continued, and one not continued with why, never with the partial answer', async () => {
    const recording = recordingLogger();
    const { server, ai } = await harness({ logger: recording.logger, logLevel: 'info', streaming: { continuation: 'prefix' } });
    server.enqueue(faults.stream({ chunks: 6, words: 'numbered', dropAfter: 2 }), faults.stream({ chunks: 6, words: 'numbered' }));
    for await (const _ of await ai.chat.completions.create({ ...params, stream: true })) void _;
    server.enqueue(faults.stream({ chunks: 6, words: 'numbered', dropAfter: 2 }));
    await rejectionOf((async () => {
      for await (const _ of await ai.chat.completions.create({ ...params, stream: true, n: 2 })) void _;
    })());
    const messages = recording.lines.map((line) => String(line.args[0]));
    expect(messages).toContain('openai-resilient: gpt-4.1-mini: stream continued after 3 chunk(s) (reset; prefix; continuation 1)');
    expect(messages).toContain('openai-resilient: gpt-4.1-mini: stream not continued after 3 chunk(s) (choices)');
    expect(JSON.stringify(recording.lines)).not.toContain('w1 w2');
    expect(JSON.stringify(recording.lines)).not.toContain(SECRET_PROMPT);
  });

  it('logs warn and above by default', async () => {
    const { lines } = await logged({}, faults.serverError(500), faults.serverError(500), faults.serverError(500));
    expect(lines.map((line) => line.level)).toEqual(['warn']);
    expect(String(lines[0]!.args[0])).toContain('gave up after 3 attempt(s): server_error (retries_exhausted)');
  });

  it('says where each fallback step goes: a model, a client (and the model it is asked for), the last-resort value', async () => {
    const other = await startFaultServer();
    try {
      const recording = recordingLogger();
      const { server, clock, ai } = await harness({
        logger: recording.logger,
        retry: { maxRetries: 0 },
        fallback: {
          models: { 'gpt-4.1-mini': ['gpt-4.1-nano'] },
          clients: [{ client: new OpenAI({ apiKey: 'k', baseURL: other.url }), model: 'their-gpt' }],
          value: (request) => chatCompletion({ id: 'chatcmpl-sorry', model: request.model ?? 'none', content: 'Sorry.' }) as never,
        },
      });
      server.enqueue(faults.serverError(500), faults.serverError(500));
      other.enqueue(faults.badRequest());
      await drive(clock, ai.chat.completions.create(params));
      const messages = recording.lines.map((line) => String(line.args[0])).filter((line) => line.includes('falling back'));
      expect(messages).toEqual([
        'openai-resilient: gpt-4.1-mini: falling back to gpt-4.1-nano after server_error',
        'openai-resilient: gpt-4.1-mini: falling back to client 0 (their-gpt) after server_error',
        'openai-resilient: gpt-4.1-mini: falling back to the last-resort value after server_error',
      ]);
      const value = recording.lines.find((line) => String(line.args[0]).includes('last-resort'))!;
      expect(value.args[1]).toMatchObject({ target: 'value', from: 'gpt-4.1-mini', to: 'fallback-value' });
      expect(JSON.stringify(recording.lines)).not.toContain('undefined');
    } finally {
      await other.close();
    }
  });

  it('calls pino-style loggers with (details, message)', async () => {
    const { logger, lines } = recordingLogger();
    const pino = Object.assign(logger, { child: () => pino, levels: { values: {} } });
    const { server, clock, ai } = await harness({ logger: pino, logLevel: 'info' });
    server.enqueue(faults.serverError(500));
    await drive(clock, ai.chat.completions.create(params));
    expect(lines[0]!.args[0]).toMatchObject({ model: 'gpt-4.1-mini', attempt: 1 });
    expect(lines[0]!.args[1]).toContain('retrying in 500 ms');
  });

  it('logs a failing listener at error level whatever logLevel, pino-style too', async () => {
    const { logger, lines } = recordingLogger();
    const pino = Object.assign(logger, { child: () => pino, levels: { values: {} } });
    const { server, clock, ai } = await harness({ logger: pino, logLevel: 'error' });
    server.enqueue(faults.serverError(500));
    ai.resilience.on('retry', () => {
      throw new Error(`listener saw ${SECRET_PROMPT.length} chars of sk-abcdefghijkl`);
    });
    await drive(clock, ai.chat.completions.create(params));
    expect(lines).toEqual([
      {
        level: 'error',
        args: [
          { event: 'retry', error: { name: 'Error', message: 'listener saw 24 chars of sk-***' } },
          'openai-resilient: a `retry` listener threw; the call was not affected',
        ],
      },
    ]);
  });

  it('a throwing logger never breaks a call', async () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const { server, clock, ai } = await harness({ logger: { warn: () => { throw new Error('logger down'); } } });
      server.enqueue(faults.badRequest());
      expect(await rejectionOf(drive(clock, ai.chat.completions.create(params)))).toBeInstanceOf(OpenAI.BadRequestError);
    } finally {
      spy.mockRestore();
    }
  });

  it('rejects a logger without log methods and an unknown level', () => {
    const client = new OpenAI({ apiKey: 'k', baseURL: 'http://127.0.0.1:9/v1' });
    expect(() => resilient(client, { logger: {} as never })).toThrow(/`logger`/);
    expect(() => resilient(client, { logger: console, logLevel: 'verbose' as never })).toThrow(/`logLevel`/);
  });
});

describe('redact', () => {
  it('hides API keys and bearer tokens', () => {
    expect(redact('key sk-proj-AbC123_x and Bearer eyJhbGci.abc.def and 0123456789abcdef0123456789abcdef')).toBe(
      'key sk-*** and Bearer *** and ***',
    );
  });
});

describe('logger: budgets', () => {
  it('logs a threshold reached and a refusal, naming the limit and the tenant, never the prompt', async () => {
    const recording = recordingLogger();
    const { ai } = await harness({ budgets: { limits: [{ name: 'hourly', tokens: 200, window: 'hour' }] }, logger: recording.logger, logLevel: 'info' });
    const tenant = ai.resilience.forTenant('acme');
    await tenant.chat.completions.create({ ...params, max_tokens: 185 });
    await rejectionOf(tenant.chat.completions.create({ ...params, max_tokens: 185 }));
    const messages = recording.lines.map((line) => `${line.level} ${String(line.args[0])}`);
    expect(messages).toContainEqual(expect.stringMatching(/^info openai-resilient: budget "hourly" of tenant "acme" at 80%: \d+ of 200 tokens used$/));
    expect(messages).toContainEqual(expect.stringMatching(/^warn openai-resilient: gpt-4.1-mini: budget "hourly" of tenant "acme" refused a call needing \d+ tokens \(\d+ of 200 used; resets by .+Z\)$/));
    expect(JSON.stringify(recording.lines)).not.toContain(SECRET_PROMPT);
  });
});
