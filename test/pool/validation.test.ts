import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { resilient } from '../../src/index.js';

const client = () => new OpenAI({ apiKey: 'sk-test', baseURL: 'http://127.0.0.1:9/v1' });
const pool = (members: unknown[], options?: unknown) => () => resilient(members as never, options as never);

describe('pool: bad input is a TypeError at construction, naming what is wrong', () => {
  it.each<[string, () => unknown, RegExp]>([
    ['an empty pool', pool([]), /the pool `members` must be a non-empty array/],
    ['a member that is not a client', pool([client(), { apiKey: 'sk' }]), /`members\[1\]` must be an OpenAI client/],
    ['a member object without a client', pool([{ client: 'sk-...' }]), /`members\[0\]` must be an OpenAI client/],
    ['a weight of 0', pool([{ client: client(), weight: 0 }]), /`members\[0\]\.weight` must be a positive number/],
    ['a negative weight', pool([client(), { client: client(), weight: -1 }]), /`members\[1\]\.weight` must be a positive number/],
    ['a weight that is not a number', pool([{ client: client(), weight: '2' }]), /`members\[0\]\.weight` must be a positive number \(at most 1_000_000\), got "2"/],
    ['an infinite weight', pool([{ client: client(), weight: Infinity }]), /`members\[0\]\.weight`/],
    ['the same client twice', (() => { const c = client(); return pool([c, { client: c, weight: 2 }]); })(), /`members\[1\]\.client` must be a client not already in the pool/],
    ['the same name twice', pool([{ client: client(), name: 'east' }, { client: client(), name: 'east' }]), /`name` must be unique in the pool, got "east"/],
    ['a name with a slash', pool([{ client: client(), name: 'a/b' }]), /`members\[0\]\.name` must be a non-empty string without `\/`/],
    ['an unknown member option', pool([{ client: client(), wieght: 2 }]), /unknown option `members\[0\]\.wieght`/],
    ['empty models', pool([{ client: client(), models: [] }]), /`members\[0\]\.models` must be a non-empty array of model names/],
    ['models that are not names', pool([{ client: client(), models: { 'gpt-4.1': 4 } }]), /`members\[0\]\.models`/],
    ['a maxConcurrent of 0', pool([{ client: client(), maxConcurrent: 0 }]), /`members\[0\]\.maxConcurrent` must be an integer from 1/],
    ['an unknown routing', pool([client()], { pool: { routing: 'fastest' } }), /`pool\.routing` must be one of 'balanced', 'ordered', 'weighted', got "fastest"/],
    ['an unknown pool option', pool([client()], { pool: { strategy: 'x' } }), /unknown option `pool\.strategy`/],
    ['`pool` for a single client', () => resilient(client(), { pool: { routing: 'ordered' } } as never), /`pool` applies only to a pool/],
    ['a member that is already resilient', pool([resilient(client()), client()]), /a pool member is already resilient/],
  ])('%s', (_, build, message) => {
    expect(build).toThrow(TypeError);
    expect(build).toThrow(message);
  });

  it('names members after their endpoint by default, unique within the pool', () => {
    const ai = resilient([
      new OpenAI({ apiKey: 'sk-a', baseURL: 'https://east.example.com/v1' }),
      new OpenAI({ apiKey: 'sk-b', baseURL: 'https://east.example.com/v1' }),
      { client: new OpenAI({ apiKey: 'sk-c', baseURL: 'https://west.example.com/v1' }), name: 'east.example.com#2' },
    ]);
    expect(Object.keys(ai.resilience.stats().members!)).toEqual(['east.example.com', 'east.example.com#3', 'east.example.com#2']);
  });

  it('leaves the members\' own clients as they were', () => {
    const member = client();
    const internals = member as unknown as { makeRequest: unknown };
    const makeRequest = internals.makeRequest;
    const ai = resilient([member, client()]);
    expect(internals.makeRequest).toBe(makeRequest);
    expect(member.maxRetries).toBe(2);
    expect(ai).toBeInstanceOf(OpenAI);
    expect(ai).not.toBe(member);
  });
});
