import { describe, expect, it } from 'vitest';
import { chatCompletion, faults } from '../../src/testing/index.js';
import { chatParams, drive, harness } from '../support/harness.js';

describe('requests made inside SDK helpers', () => {
  it('chat.completions.runTools()', async () => {
    const { server, clock, ai } = await harness();
    const toolCall = chatCompletion({ id: 'chatcmpl-1', model: 'gpt-4.1-mini' }) as any;
    toolCall.choices[0].message = {
      role: 'assistant', content: null, refusal: null,
      tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'add', arguments: '{"a":1,"b":2}' } }],
    };
    toolCall.choices[0].finish_reason = 'tool_calls';
    server.enqueue(faults.ok(toolCall), faults.serverError(503), faults.ok());
    const runner = ai.chat.completions.runTools({
      ...chatParams,
      tools: [{ type: 'function', function: { name: 'add', description: 'Adds a and b', parameters: { type: 'object', properties: {} }, function: (args: { a: number; b: number }) => args.a + args.b, parse: JSON.parse } }],
    });
    const content = await drive(clock, runner.finalContent());
    expect(content).toBe('ok');
    expect(server.requestsTo('/chat/completions')).toHaveLength(3);
  });

  it('responses.stream()', async () => {
    const { server, clock, ai } = await harness();
    server.enqueue(faults.reset());
    const stream = ai.responses.stream({ model: 'gpt-4.1-mini', input: 'hi' });
    const final = await drive(clock, stream.finalResponse());
    expect(final.status).toBe('completed');
    expect(server.requestsTo('/responses')).toHaveLength(2);
  });
});

describe('withOptions()', () => {
  it('rejects an invalid maxRetries or timeout with a TypeError', async () => {
    const { ai } = await harness();
    expect(() => ai.withOptions({ maxRetries: -1 })).toThrow(/`withOptions\(\{ maxRetries \}\)`/);
    expect(() => ai.withOptions({ timeout: 0 })).toThrow(TypeError);
  });
});

