import { inspect } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ReplayedHeaders } from '../../src/cache/replayed-headers.js';
import { chatParams, harness } from '../support/harness.js';

const SOURCE = 'x-openai-resilient-source';
const stored: Array<[string, string]> = [
  ['content-type', 'application/json'],
  ['set-cookie', 'a=1'],
  ['set-cookie', 'b=2'],
  ['x-request-id', 'req_1'],
];

/** The `Headers` a replay stands for: the stored pairs, then the source header. */
function expected(): Headers {
  const headers = new Headers();
  for (const [name, value] of stored) headers.append(name, value);
  headers.set(SOURCE, 'cache');
  return headers;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('ReplayedHeaders', () => {
  it('answers get() and has() as the Headers it stands for, any case, set-cookie joined', () => {
    const replayed = new ReplayedHeaders(stored, [SOURCE, 'cache']);
    const headers = expected();
    for (const name of ['content-type', 'Content-Type', 'set-cookie', 'X-Request-ID', SOURCE, 'retry-after']) {
      expect(replayed.get(name), name).toBe(headers.get(name));
      expect(replayed.has(name), name).toBe(headers.has(name));
    }
    expect(replayed).toBeInstanceOf(Headers);
  });

  it('rejects an invalid name as Headers does', () => {
    const replayed = new ReplayedHeaders(stored, [SOURCE, 'cache']);
    expect(() => new Headers().get('bad name')).toThrow(TypeError);
    expect(() => replayed.get('bad name')).toThrow(TypeError);
    expect(() => replayed.has('bad name')).toThrow(TypeError);
  });

  it('lists, iterates and prints what the Headers it stands for does', () => {
    const headers = expected();
    expect([...new ReplayedHeaders(stored, [SOURCE, 'cache'])]).toEqual([...headers]);
    expect([...new ReplayedHeaders(stored, [SOURCE, 'cache']).entries()]).toEqual([...headers.entries()]);
    expect([...new ReplayedHeaders(stored, [SOURCE, 'cache']).keys()]).toEqual([...headers.keys()]);
    expect([...new ReplayedHeaders(stored, [SOURCE, 'cache']).values()]).toEqual([...headers.values()]);
    expect(new ReplayedHeaders(stored, [SOURCE, 'cache']).getSetCookie()).toEqual(['a=1', 'b=2']);
    const seen: string[] = [];
    new ReplayedHeaders(stored, [SOURCE, 'cache']).forEach((value, name) => seen.push(`${name}=${value}`));
    expect(seen).toEqual([...headers].map(([name, value]) => `${name}=${value}`));
    expect(Object.fromEntries(new ReplayedHeaders(stored, [SOURCE, 'cache']))).toEqual(Object.fromEntries(headers));
    expect(inspect(new ReplayedHeaders(stored, [SOURCE, 'cache']))).toBe(inspect(headers));
    expect([...new Response('{}', { headers: new ReplayedHeaders(stored, [SOURCE, 'cache']) }).headers]).toEqual([...headers]);
  });

  it('can be changed like any Headers, without changing the pairs another replay reads', () => {
    const changed = new ReplayedHeaders(stored, [SOURCE, 'cache']);
    changed.set('x-request-id', 'mine');
    changed.append('x-extra', '1');
    changed.delete('content-type');
    expect([changed.get('x-request-id'), changed.get('x-extra'), changed.has('content-type')]).toEqual(['mine', '1', false]);
    const other = new ReplayedHeaders(stored, [SOURCE, 'cache']);
    expect([other.get('x-request-id'), other.has('x-extra'), other.get('content-type')]).toEqual(['req_1', false, 'application/json']);
    expect(stored).toHaveLength(4);
  });
});

describe('a cache hit', () => {
  it('builds no Headers list and sets no body timer: it hands the stored answer over as it is', async () => {
    const { ai } = await harness({ cache: true });
    const params = { ...chatParams, temperature: 0 };
    const first = await ai.chat.completions.create(params).withResponse();
    const append = vi.spyOn(Headers.prototype, 'append');
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    const { data, response } = await ai.chat.completions.create(params).withResponse();
    expect(append).not.toHaveBeenCalled();
    // The SDK's parsing step times the reading of a body it was not handed parsed (openai 7.57: the client's timeout).
    expect(setTimeoutSpy.mock.calls.filter(([, ms]) => typeof ms === 'number' && ms >= 1_000)).toEqual([]);
    expect(data).toEqual(first.data);
    expect(response.headers.get(SOURCE)).toBe('cache');
    expect(response.headers.get('x-request-id')).toBe(first.response.headers.get('x-request-id'));
    const kept = [...first.response.headers].filter(([name]) => !['content-length', 'date', 'connection', 'keep-alive', 'transfer-encoding'].includes(name));
    expect([...response.headers]).toEqual([...kept, [SOURCE, 'cache']].sort((a, b) => (a[0]! < b[0]! ? -1 : 1)));
  });
});
