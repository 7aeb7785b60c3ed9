import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { resilient } from '../../src/index.js';
import { faults, startFaultServer, type FaultServer } from '../../src/testing/index.js';
import { chatParams } from '../support/harness.js';

const servers: FaultServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** A client that records the keys of the request options the SDK prepares each request from. */
class RecordingOpenAI extends OpenAI {
  readonly seen: string[][] = [];
  protected override async prepareOptions(options: Parameters<OpenAI['prepareOptions']>[0]): Promise<void> {
    this.seen.push(Object.keys(options));
    await super.prepareOptions(options);
  }
}

async function recordingClient(): Promise<{ server: FaultServer; client: RecordingOpenAI }> {
  const server = await startFaultServer();
  servers.push(server);
  return { server, client: new RecordingOpenAI({ apiKey: 'sk-test-key', baseURL: server.url, maxRetries: 0 }) };
}

describe('the request options an attempt is sent with', () => {
  it('have the keys of a bare call, in its order: the SDK code that reads them stays monomorphic', async () => {
    const { server, client: bare } = await recordingClient();
    const inner = new RecordingOpenAI({ apiKey: 'sk-test-key', baseURL: server.url });
    const ai = resilient(inner);
    server.enqueue(faults.ok(), faults.ok(), faults.ok(), faults.ok());

    await bare.chat.completions.create(chatParams);
    await ai.chat.completions.create(chatParams);
    await bare.chat.completions.create(chatParams, { headers: { 'x-trace': '1' } });
    await ai.chat.completions.create(chatParams, { headers: { 'x-trace': '1' } });

    // `resilient()` works on a clone of the client, which records into the same class but its own list.
    const resilientSeen = (ai as unknown as RecordingOpenAI).seen;
    expect(resilientSeen).toEqual(bare.seen);
    expect(bare.seen[0]).not.toContain('signal');
    expect(bare.seen[0]).not.toContain('maxRetries');
  });

  it('turn off the SDK\'s retries of a call that asks for its own `maxRetries`, and keep that count for the pipeline', async () => {
    const { server, client } = await recordingClient();
    const ai = resilient(client, { retry: { initialDelay: 1, maxDelay: 1 } });
    server.enqueue(faults.serverError(), faults.serverError(), faults.ok());
    const completion = await ai.chat.completions.create(chatParams, { maxRetries: 2 });
    expect(completion.object).toBe('chat.completion');
    // Three attempts, each sent once: the SDK retried none of them itself.
    expect(server.requests).toHaveLength(3);
    expect((ai as unknown as RecordingOpenAI).seen).toHaveLength(3);
  });
});
