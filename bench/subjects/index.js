// The subjects of the comparative cases: the bare SDK, what a user would pick instead of this library
// (the Vercel AI SDK, LangChain.js, Portkey's gateway, a hand-rolled cockatiel policy), and resilient(). Every subject makes a
// client with the SDK's chat shape (`client.chat.completions.create(params, { signal })`, see
// chat-facade.js), pointed at a loopback server (`baseURL`) or an in-memory `fetch`, so that a case runs
// any of them unchanged:
//
//   for (const subject of await loadSubjects()) {
//     await subject.open?.();
//     const client = subject.makeClient({ baseURL: server.url });
//     await client.chat.completions.create(params, { signal });
//     await subject.close?.();
//   }
//
// The AI SDK, LangChain.js and Portkey's gateway live in alternatives/, a package of their own (pinned, own
// lockfile) that loadSubjects() installs on first use: they are never dependencies of the library.
// BENCH_SUBJECTS (comma-separated keys: bare, ai-sdk, langchain, portkey, cockatiel, resilient) picks some,
// e.g. offline: BENCH_SUBJECTS=bare,resilient.
import { bare } from './bare.js';
import { cockatielSubject } from './cockatiel.js';
import { ensureAlternativesInstalled } from './install.js';
import { resilientDefaults } from './resilient.js';

/**
 * @typedef {{
 *   key: string,
 *   name: string,
 *   configuration: string,
 *   versions: Record<string, string>,
 *   makeClient: (target?: string | { baseURL?: string, fetch?: typeof fetch }) => any,
 *   open?: () => Promise<void>,
 *   close?: () => Promise<void>,
 *   inMemoryFetch?: boolean,
 * }} Subject
 * `key` selects it (BENCH_SUBJECTS), `name` is what tables show, `configuration` says in a sentence how it is
 * set up, `versions` are the packages measured. `makeClient(target)` (a base URL, or `{ baseURL?, fetch? }`) returns a client whose
 * `chat.completions.create(params, { signal })` resolves to a completion (`choices[0].message.content`) or,
 * with `stream: true`, to an async iterable of chunks (`choices[0].delta.content`); the bare SDK and
 * resilient() return their real clients (every SDK method, and `resilience` for resilient()). A subject with
 * `open` (a process to start: Portkey's gateway) makes clients only between `open()` and `close()`; one with
 * `inMemoryFetch: false` only reaches a server by its base URL.
 */

/** Every subject's key, in the order the cases run them and the tables show them. */
export const SUBJECT_KEYS = ['bare', 'ai-sdk', 'langchain', 'portkey', 'cockatiel', 'resilient'];

const ALTERNATIVES = {
  'ai-sdk': async () => (await import('./alternatives/ai-sdk.js')).aiSdk,
  langchain: async () => (await import('./alternatives/langchain.js')).langchain,
  portkey: async () => (await import('./alternatives/portkey.js')).portkey,
};
const LOCAL = { bare, cockatiel: cockatielSubject, resilient: resilientDefaults };

/** The keys BENCH_SUBJECTS selects (every subject when unset), checked. */
export function selectedSubjectKeys(raw = process.env.BENCH_SUBJECTS) {
  if (raw === undefined || raw.trim() === '') return SUBJECT_KEYS;
  const keys = raw.split(',').map((key) => key.trim()).filter(Boolean);
  const unknown = keys.filter((key) => !SUBJECT_KEYS.includes(key));
  if (unknown.length > 0) throw new TypeError(`BENCH_SUBJECTS: unknown subject(s) ${unknown.join(', ')}; known: ${SUBJECT_KEYS.join(', ')}`);
  return SUBJECT_KEYS.filter((key) => keys.includes(key));
}

/**
 * The subjects `keys` (BENCH_SUBJECTS's by default), in SUBJECT_KEYS order; installs the alternatives first
 * when one of them is wanted, unless `install` is false (a measuring child process, whose parent did).
 * @returns {Promise<Subject[]>}
 */
export async function loadSubjects(keys = selectedSubjectKeys(), { install = true } = {}) {
  const wanted = SUBJECT_KEYS.filter((key) => keys.includes(key));
  if (install && wanted.some((key) => key in ALTERNATIVES)) await ensureAlternativesInstalled();
  return Promise.all(wanted.map((key) => (key in ALTERNATIVES ? ALTERNATIVES[key]() : LOCAL[key])));
}
