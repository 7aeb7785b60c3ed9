// The chat part of case "stream-recovery" (issue 25): 200 Chat Completions streams of the fault server's
// numbered answer (`w1 w2 ... w20`, every word different, so that a span repeated or left out at a seam
// shows), 20 at a time, 20% of them cut (the socket destroyed) after a number of deltas drawn with the case's
// seeded PRNG, from 1 to all but one (mid-text). Two clients side by side, each against a fresh server:
// `resilient()` as it is (continuation off: a cut stream fails) and with `streaming: { continuation:
// 'prefix' }` (the partial answer re-sent as a last assistant message with `prefix: true`; the fault server
// answers it with the rest of its answer, as Mistral or DeepSeek would). Each stream's text is compared with
// the whole answer: complete (≥ 99%), and no word twice or missing.
import OpenAI from 'openai';
import { resilient } from '../dist/index.js';
import { seededRandom } from '../dist/testing/capacity.js';
import { faults, startFaultServer } from '../dist/testing/index.js';
import { countedLoop } from './load.js';
import { checkTarget, countBy, markdownTable, pct, percentile, round } from './report.js';

const MODEL = 'gpt-4.1-mini';
// Issue 25: ≥ 99% complete, the spliced text with no duplicated or missing span.
const TARGETS = { complete: 0.99 };

/** The plan: one entry a stream, `{ dropAfter }` (deltas sent before the cut) or `{}`. */
function chatPlan({ streams, chunks, seed, disturbedShare }) {
  const random = seededRandom(seed + 1);
  const disturbed = Math.round(streams * disturbedShare);
  const plan = Array.from({ length: streams }, (_, i) => (i < disturbed ? { dropAfter: 1 + Math.floor(random() * (chunks - 1)) } : {}));
  for (let i = plan.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [plan[i], plan[j]] = [plan[j], plan[i]];
  }
  return plan;
}

/** One chat stream's text (its deltas joined) and the error it ended with. */
async function readChat(client, i) {
  let text = '';
  let finish = null;
  try {
    const stream = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: `chat ${String(i).padStart(5, '0')}` }], stream: true });
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    return { text, finish };
  } catch (error) {
    return { text, finish, error };
  }
}

/** The words repeated and the words missing in `text` against `expected` (both `w1 w2 ...`). */
function spans(text, expected) {
  const words = text.match(/w\d+/g) ?? [];
  const seen = countBy(words, (w) => w);
  return {
    duplicated: Object.keys(seen).filter((w) => seen[w] > 1).length,
    missing: expected.match(/w\d+/g).filter((w) => !(w in seen)).length,
  };
}

/** One client over the plan, against a fresh server. */
async function runChat(label, makeClient, { plan, config, expected }) {
  const server = await startFaultServer();
  const continued = [];
  const notContinued = [];
  try {
    const shape = { chunks: config.chunks, intervalMs: config.intervalMs, words: 'numbered' };
    server.enqueueFor('/chat/completions', ...plan.map((entry) => faults.stream({ ...shape, ...entry })));
    // Continuations take the next scripted answer, as any request: spares of the same shape after the plan.
    server.enqueueFor('/chat/completions', ...plan.map(() => faults.stream(shape)));
    const client = makeClient(server.url);
    client.resilience.on('streamContinued', (event) => continued.push(event));
    client.resilience.on('streamNotContinued', (event) => notContinued.push(event));
    const results = new Array(plan.length);
    const started = performance.now();
    await countedLoop({
      callers: config.concurrency,
      calls: plan.length,
      call: async (i) => {
        const t0 = performance.now();
        results[i] = { ...(await readChat(client, i)), ms: performance.now() - t0 };
      },
    });
    const seconds = (performance.now() - started) / 1000;
    const requests = server.requests;
    const continuations = requests.filter((r) => r.body?.messages?.at(-1)?.role === 'assistant').length;
    const streams = results.map((r) => ({ ...r, complete: r.error === undefined && r.finish === 'stop', exact: r.text === expected, ...spans(r.text, expected) }));
    const completed = streams.filter((s) => s.complete);
    const share = (list, pick) => (list.length === 0 ? null : list.filter(pick).length / list.length);
    return {
      subject: label,
      seconds: round(seconds, 2),
      streams: streams.length,
      complete: share(streams, (s) => s.complete),
      exact: share(streams, (s) => s.exact),
      // Of the completed streams: any word twice, any word missing.
      withDuplicate: completed.filter((s) => s.duplicated > 0).length,
      withMissing: completed.filter((s) => s.missing > 0).length,
      requests: requests.length,
      requestsPerStream: requests.length / streams.length,
      continuationRequests: continuations,
      continued: { count: continued.length, byFailure: countBy(continued, (e) => e.failure) },
      notContinued: countBy(notContinued, (e) => (e.error ? `${e.reason}: ${String(e.error.message ?? e.error).replace(/; retrying in.*$/, '').slice(0, 100)}` : e.reason)),
      errors: countBy(
        streams.filter((s) => s.error !== undefined),
        (s) => s.error?.constructor?.name ?? typeof s.error,
      ),
      streamMs: { p50: round(percentile(streams.map((s) => s.ms), 50), 1), p99: round(percentile(streams.map((s) => s.ms), 99), 1) },
      // Streams that did not complete with the whole answer.
      details: streams
        .map((s, i) => ({ stream: i, complete: s.complete, finish: s.finish, exact: s.exact, text: s.text.slice(0, 200), error: s.error ? String(s.error.message).slice(0, 120) : undefined }))
        .filter((s) => !s.exact || !s.complete),
    };
  } finally {
    await server.close();
  }
}

/** The whole answer (an undisturbed stream of the plan's shape). */
async function referenceText(config) {
  const server = await startFaultServer();
  try {
    server.enqueue(faults.stream({ chunks: config.chunks, intervalMs: config.intervalMs, words: 'numbered' }));
    const { text, error } = await readChat(new OpenAI({ apiKey: 'sk-bench', baseURL: server.url, maxRetries: 0 }), 0);
    if (error) throw error;
    return text;
  } finally {
    await server.close();
  }
}

/** Runs the chat part; returns its results and targets. */
export async function chatContinuation(config) {
  const plan = chatPlan(config);
  const expected = await referenceText(config);
  console.log(
    `\n== stream-recovery, chat: ${config.streams} chat streams of ${config.chunks} numbered words, ${config.concurrency} at a time, ` +
      `${pct(config.disturbedShare, 0)} cut mid-text; continuation off and 'prefix'`,
  );
  const timeout = { idle: config.idleMs, firstChunk: config.firstChunkMs };
  const sdk = (baseURL) => new OpenAI({ apiKey: 'sk-bench', baseURL });
  const clients = [
    { key: 'off', label: 'resilient(), continuation off', make: (baseURL) => resilient(sdk(baseURL), { timeout }) },
    { key: 'prefix', label: "resilient(), continuation: 'prefix'", make: (baseURL) => resilient(sdk(baseURL), { timeout, streaming: { continuation: 'prefix' } }) },
  ];
  const runs = [];
  for (const c of clients) {
    await runChat(c.label, c.make, { plan: plan.map(() => ({})).slice(0, 2 * config.concurrency), config, expected }); // warm-up
    const run = await runChat(c.label, c.make, { plan, config, expected });
    runs.push({ key: c.key, ...run });
    console.log(
      `   ${c.label}: ${pct(run.complete)} complete, ${pct(run.exact)} the whole answer exactly, ${run.withDuplicate} with a word twice, ` +
        `${run.withMissing} with one missing; ${run.requests} requests (${run.continuationRequests} continuations), ${run.seconds} s`,
    );
  }
  const on = runs.find((r) => r.key === 'prefix');
  const targets = [
    checkTarget("chat, continuation 'prefix': streams complete", on.complete, { atLeast: TARGETS.complete, format: (v) => pct(v) }),
    checkTarget("chat, continuation 'prefix': completed streams with a span twice or missing", on.withDuplicate + on.withMissing, { atMost: 0, format: String }),
  ];
  return {
    targets,
    result: { config: { ...config, disturbed: countBy(plan, (p) => (p.dropAfter === undefined ? 'none' : 'cut')) }, expected, runs },
  };
}

/** The chat part's Markdown (from its stored result). */
export function chatSection({ config, expected, runs }) {
  const rows = runs.map((r) => [
    r.subject,
    pct(r.complete),
    pct(r.exact),
    r.withDuplicate,
    r.withMissing,
    `${r.requests} (${r.requestsPerStream.toFixed(2)}), ${r.continuationRequests} continuations`,
    Object.entries(r.errors)
      .map(([name, n]) => `${name} ×${n}`)
      .join(', ') || 'none',
    Object.entries(r.notContinued)
      .map(([reason, n]) => `${reason} ×${n}`)
      .join(', ') || 'none',
  ]);
  return [
    `Chat: ${config.streams} Chat Completions streams of the fault server's numbered answer (\`${expected.split(' ').slice(0, 3).join(' ')} ... ${expected.split(' ').at(-1)}\`, ` +
      `${config.chunks} deltas, every word different), ${config.concurrency} at a time, ${pct(config.disturbedShare, 0)} of the scripted answers cut after 1 to ` +
      `${config.chunks - 1} deltas (seeded), \`resilient()\` with its defaults otherwise (circuit breaker included). With \`streaming: { continuation: 'prefix' }\` ` +
      'the partial answer is sent again as a last assistant message with `prefix: true`, which the fault server answers with the rest of its ' +
      'answer; a continuation takes the next scripted answer, as any request, so it may be cut too. A word twice or missing in the text a ' +
      'stream delivered is a span duplicated or lost at a seam.',
    '',
    markdownTable(['client', 'complete', 'whole answer exactly', 'with a word twice', 'with a word missing', 'requests (a stream)', 'errors', 'not continued (streamNotContinued)'], rows),
  ].join('\n');
}
