import { afterEach, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { createFaultFetch, faults, startFaultServer, type FaultServer, type FaultServerOptions } from '../../src/testing/index.js';

type APIError = InstanceType<typeof OpenAI.APIError>;

const servers: FaultServer[] = [];
afterEach(async () => {
  for (const server of servers) expect(server.openRequests).toBe(0);
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(options: FaultServerOptions = {}): Promise<{ server: FaultServer; client: OpenAI }> {
  const server = await startFaultServer(options);
  servers.push(server);
  return { server, client: new OpenAI({ apiKey: 'sk-test', baseURL: server.url, maxRetries: 0 }) };
}

const chat = (client: OpenAI) => client.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] });
const caught = (p: Promise<unknown>): Promise<unknown> => p.then(() => expect.unreachable('expected a rejection'), (e: unknown) => e);

describe('goDown() / comeBack(): an outage mid-run', () => {
  it('answers every request with a 500 while down, then default successes again', async () => {
    const { server, client } = await start();
    expect(server.isDown).toBe(false);
    expect((await chat(client)).choices[0]?.message.content).toBe('ok');

    server.goDown();
    expect(server.isDown).toBe(true);
    for (let i = 0; i < 3; i++) {
      const error = (await caught(chat(client))) as APIError;
      expect(error).toBeInstanceOf(OpenAI.InternalServerError);
      expect(error).toMatchObject({ status: 500, type: 'server_error' });
    }

    server.comeBack();
    expect(server.isDown).toBe(false);
    expect((await chat(client)).choices[0]?.message.content).toBe('ok');
    expect(server.requests).toHaveLength(5); // requests made while down are recorded
    expect(server.stats()).toEqual({ received: 5, admitted: 2, rateLimited: 0, randomFailures: 0, scripted: 0, overloaded: 0, down: 3 });
  });

  it('takes a status (503 is overloaded) or any fault, replaced by a second goDown()', async () => {
    const { server, client } = await start();
    server.goDown(503);
    const overloaded = (await caught(chat(client))) as APIError;
    expect(overloaded.status).toBe(503);
    expect(overloaded.message).toContain('The engine is currently overloaded');
    server.goDown(502);
    expect(((await caught(chat(client))) as APIError).status).toBe(502);
    server.goDown(faults.reset());
    expect(await caught(chat(client))).toBeInstanceOf(OpenAI.APIConnectionError);
    server.comeBack();
    server.comeBack(); // idempotent
    expect((await chat(client)).object).toBe('chat.completion');
  });

  it('comes before scripted faults, which stay queued for after it, and uses no capacity', async () => {
    // A bucket of 2 refilled every 30 s: nothing refills during the test, however busy the machine.
    const { server, client } = await start({ capacity: { requestsPerMinute: 2, burstSeconds: 60 } });
    server.enqueue(faults.badRequest());
    server.goDown();
    for (let i = 0; i < 4; i++) expect(await caught(chat(client))).toBeInstanceOf(OpenAI.InternalServerError);
    expect(server.pendingFaults).toBe(1);
    server.comeBack();
    expect(await caught(chat(client))).toBeInstanceOf(OpenAI.BadRequestError); // the scripted fault, kept
    // Both of the account's requests are still there: the outage used none.
    const { response } = await chat(client).withResponse();
    expect(response.headers.get('x-ratelimit-remaining-requests')).toBe('1');
    await chat(client);
    expect(await caught(chat(client))).toBeInstanceOf(OpenAI.RateLimitError);
    expect(server.stats()).toMatchObject({ down: 4, scripted: 1, admitted: 2, rateLimited: 1 });
  });

  it('rejects an outage that is neither a status from 400 to 599 nor a fault', async () => {
    const { server } = await start();
    expect(() => server.goDown(200)).toThrow('startFaultServer: `goDown(outage)` must be an HTTP status from 400 to 599 or a fault, got 200.');
    expect(() => server.goDown(500.5)).toThrow(TypeError);
    expect(() => server.goDown('500' as never)).toThrow(TypeError);
    expect(server.isDown).toBe(false);
  });

  it('works the same on the fault fetch', async () => {
    const faultFetch = createFaultFetch();
    const client = new OpenAI({ apiKey: 'sk-test', baseURL: 'https://api.openai.test/v1', fetch: faultFetch.fetch, maxRetries: 0 });
    faultFetch.goDown(504);
    expect(((await caught(chat(client))) as APIError).status).toBe(504);
    faultFetch.comeBack();
    expect((await chat(client)).object).toBe('chat.completion');
    expect(faultFetch.stats()).toMatchObject({ received: 2, down: 1, admitted: 1 });
    await faultFetch.close();
  });
});
