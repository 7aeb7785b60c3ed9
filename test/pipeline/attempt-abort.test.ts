import OpenAI from 'openai';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { resilient } from '../../src/index.js';
import { faults, startFaultServer, type FaultServer } from '../../src/testing/index.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { chatParams, rejectionOf, until } from '../support/harness.js';

// How timed attempts behave (their timeouts and the deadline) is in test/smoke/timed-attempts.test.ts, which
// runs against every SDK major; these tests are about openai 7, which composes a request's signal.

const servers: FaultServer[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

describe('a call only time can abort (no caller signal, no cockatiel policy, the system clock)', () => {
  it('is sent without a signal: the SDK never composes one with AbortSignal.any', async () => {
    const server = await startFaultServer();
    servers.push(server);
    const ai = resilient(new OpenAI({ apiKey: 'sk-test-key', baseURL: server.url }));
    const any = vi.spyOn(AbortSignal, 'any');
    server.enqueue(faults.ok());
    await ai.chat.completions.create(chatParams);
    expect(any).not.toHaveBeenCalled();

    server.enqueue(faults.ok());
    await ai.chat.completions.create(chatParams, { signal: new AbortController().signal });
    expect(any).toHaveBeenCalled();
  });

  it('with a fake clock, is sent with a signal that the fake clock aborts', async () => {
    const server = await startFaultServer();
    servers.push(server);
    const clock = new FakeClock(0);
    const ai = resilient(new OpenAI({ apiKey: 'sk-test-key', baseURL: server.url }), { clock, retry: false, timeout: { attempt: 5_000 } });
    const any = vi.spyOn(AbortSignal, 'any');
    server.enqueue(faults.stall());
    const outcome = rejectionOf(ai.chat.completions.create(chatParams));
    await until(() => server.requests.length === 1);
    await clock.advance(5_000);
    expect(await outcome).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(any).toHaveBeenCalled();
  });
});
