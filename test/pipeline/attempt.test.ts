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

describe('the request options an attempt is sent with', () => {
  it('have the keys of a bare call, in its order: the SDK code that reads them stays monomorphic', async () => {
    const server = await startFaultServer();
    servers.push(server);
    const bare = new RecordingOpenAI({ apiKey: 'sk-test-key', baseURL: server.url, maxRetries: 0 });
    const ai = resilient(new RecordingOpenAI({ apiKey: 'sk-test-key', baseURL: server.url }));
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
});
