// The calls of the overhead case (bench/overhead.js, and its comparison with the alternatives,
// bench/overhead-versus.js), each answered by an in-memory fetch, and how they are timed.
import { contentDeltas } from '../dist/testing/index.js';
import { BODIES, jsonFetch, sseFetch } from './in-memory-fetch.js';

/** Alternating rounds per process (see alternate.js). */
export const ROUNDS = 15;
// Each process settles into its own JIT state (which code is optimised for which shapes), which can shift
// one subject against the other for the whole run: the case runs in fresh processes and keeps the median.
export const PROCESSES = 3;

export const CHAT = { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'Say ok' }] };
const STREAM_CHUNKS = 47;
export const STREAM_FRAMES = BODIES.streamFrames(STREAM_CHUNKS); // role, 47 deltas, finish, [DONE]: 50 SSE frames
const STREAM_TEXT = contentDeltas(STREAM_CHUNKS).join('');

/**
 * `call` is what is timed, `verify` checks a client's answer once before timing, `calls` per round.
 * `alternatives`: whether the alternatives (bench/subjects/) run it too; their adapters speak chat only.
 */
export const KINDS = [
  {
    name: 'chat completion',
    fetch: jsonFetch(BODIES.chat),
    call: (client, options) => client.chat.completions.create(CHAT, options),
    verify: async (client) => (await client.chat.completions.create(CHAT)).choices[0].message.content === 'ok',
    calls: 1_000,
    alternatives: true,
  },
  {
    name: 'stream, 50 SSE frames',
    fetch: sseFetch(STREAM_FRAMES),
    call: async (client, options) => {
      let chunks = 0;
      for await (const _chunk of await client.chat.completions.create({ ...CHAT, stream: true }, options)) chunks++;
      return chunks;
    },
    verify: async (client) => {
      let text = '';
      for await (const chunk of await client.chat.completions.create({ ...CHAT, stream: true })) text += chunk.choices[0]?.delta?.content ?? '';
      return text === STREAM_TEXT;
    },
    calls: 200,
    alternatives: true,
  },
  {
    name: 'embedding (1 536 dims)',
    fetch: jsonFetch(BODIES.embedding),
    call: (client, options) => client.embeddings.create({ model: 'text-embedding-3-small', input: 'Say ok' }, options),
    verify: async (client) => (await client.embeddings.create({ model: 'text-embedding-3-small', input: 'Say ok' })).data[0].embedding.length === 1536,
    calls: 1_000,
    alternatives: false,
  },
];

/** Throws unless `client` answers `kind` as expected (a subject that answers wrongly must not be timed). */
export async function verifyAnswer(kind, name, client) {
  if (!(await kind.verify(client))) throw new Error(`overhead: ${kind.name} through ${name} returned an unexpected answer`);
}
