import OpenAI from 'openai';
import { BedrockOpenAI } from 'openai/bedrock';
import { afterEach, describe, expect, it } from 'vitest';
import { faults, startFaultServer, type FaultServer } from '../../src/testing/index.js';
import { resilient } from '../../src/index.js';
import { chatParams } from '../support/harness.js';

const servers: FaultServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

describe('BedrockOpenAI (openai 7)', () => {
  it('keeps its class, its bearer token and its URL layout, and retries through the pipeline', async () => {
    const server = await startFaultServer();
    servers.push(server);
    const bedrock = new BedrockOpenAI({ baseURL: server.url, apiKey: 'bedrock-token', awsRegion: 'us-east-1' });
    const ai = resilient(bedrock, { retry: { initialDelay: 1, jitter: false } });
    expect(ai).toBeInstanceOf(BedrockOpenAI);
    expect(ai).toBeInstanceOf(OpenAI);
    server.enqueue(faults.overloaded());
    const completion = await ai.chat.completions.create(chatParams);
    expect(completion.object).toBe('chat.completion');
    const requests = server.requestsTo('/chat/completions');
    expect(requests).toHaveLength(2);
    expect(requests.every((request) => request.headers['authorization'] === 'Bearer bedrock-token')).toBe(true);
    expect(ai.withOptions({ maxRetries: 0 })).toBeInstanceOf(BedrockOpenAI);
  });
});
