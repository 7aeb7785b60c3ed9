// The background half of case "stream-recovery" (see stream-recovery.js): its plan of faults, one client's
// run of it against a fresh fault server, and what became of each stream and each creating request.
import OpenAI from 'openai';
import { partialOutputOf } from '../dist/index.js';
import { seededRandom } from '../dist/testing/capacity.js';
import { faults, startFaultServer } from '../dist/testing/index.js';
import { countedLoop } from './load.js';
import { countBy, percentile, round } from './report.js';

const MODEL = 'gpt-4.1-mini';
export const DISTURBED_SHARE = 0.2;
/** Events of a background stream before its first delta: created, queued, in_progress, output_item.added, content_part.added. */
export const PREAMBLE_EVENTS = 5;
/** After the deltas: output_text.done, content_part.done, output_item.done, then response.completed. */
const TAIL_EVENTS = 4;

/** Shuffles `items` in place with `random` (Fisher-Yates). */
function shuffle(items, random) {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/**
 * The workload: one entry a stream, `{ fault: 'none' | 'drop' | 'stall', after }` (`after`: the events sent
 * before the cut or stall). Half the disturbed streams are cut, half stalled; the edges (0 events, just
 * before the first delta, just before `response.completed`) are in the plan for both.
 */
export function workload({ streams, chunks, seed }) {
  const random = seededRandom(seed);
  const events = PREAMBLE_EVENTS + chunks + TAIL_EVENTS;
  const disturbed = Math.round(streams * DISTURBED_SHARE);
  const edges = [0, PREAMBLE_EVENTS, events - 1];
  const faultsOf = Array.from({ length: disturbed }, (_, i) => {
    const fault = i % 2 === 0 ? 'drop' : 'stall';
    const edge = edges[Math.floor(i / 2)];
    return { fault, after: edge ?? Math.floor(random() * events) };
  });
  const plan = [...faultsOf, ...Array.from({ length: streams - disturbed }, () => ({ fault: 'none' }))];
  return { events, plan: shuffle(plan, random) };
}

/** The fault server's answer to the creating request of a stream planned as `entry`. */
function faultOf(entry, { chunks, intervalMs }) {
  const shape = { chunks, intervalMs };
  if (entry.fault === 'drop') return faults.stream({ ...shape, dropAfterEvents: entry.after });
  if (entry.fault === 'stall') return faults.stream({ ...shape, stallAfterEvents: entry.after });
  return faults.stream(shape);
}

/** An event as a string comparable across responses: the response's and item's ids and `created_at` replaced. */
function comparable(event) {
  return JSON.stringify(event, (key, value) => (key === 'created_at' ? 0 : value)).replace(/"(resp|msg)_[^"]+"/g, '"$1_X"');
}

/** How the bench's watchdog ends a bare SDK stream that stands still (the SDK has no idle timeout). */
class WatchdogError extends Error {}

/** The input of stream `i`: of one length for every stream (the usage in `response.completed` counts its tokens). */
const inputOf = (i) => `stream ${String(i).padStart(5, '0')}`;
const streamOfInput = (input) => Number(String(input).replace('stream ', ''));

/**
 * Iterates one stream into comparable events; for the bare SDK, `watchdog` (`{ firstChunkMs, idleMs }`, as
 * `resilient()`'s `timeout`) ends a stream that stands still that long (the SDK has no idle timeout: a
 * stalled stream would never end).
 */
async function readStream(client, input, watchdog) {
  const controller = new AbortController();
  let timer;
  const arm = (ms) => {
    if (watchdog === undefined) return;
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new WatchdogError(`no event for ${ms} ms (bench watchdog)`)), ms);
  };
  const events = [];
  let error;
  try {
    arm(watchdog?.firstChunkMs);
    const stream = await client.responses.create({ model: MODEL, input, background: true, stream: true }, { signal: controller.signal });
    for await (const event of stream) {
      arm(watchdog?.idleMs);
      events.push(comparable(event));
    }
  } catch (caught) {
    error = caught;
  } finally {
    clearTimeout(timer);
  }
  // A stream the watchdog ended ends quietly in the SDK (an abort): it did not complete either.
  if (!error && controller.signal.aborted) error = controller.signal.reason;
  return { events, error };
}

/** What a failed stream's error was: its class, and whether it carries the partial output. */
function describeError(error, partialOf) {
  if (error === undefined) return undefined;
  const partial = partialOf(error);
  return {
    name: error?.constructor?.name ?? typeof error,
    message: String(error?.message ?? error).slice(0, 120),
    partial: partial !== undefined,
    partialText: partial?.text?.length ?? null,
  };
}

/** One run of the workload through `makeClient(baseURL)` against a fresh server. */
export async function runWorkload(label, makeClient, { plan, config, reference, watchdog, expected, partialOutputOf: partialOf = partialOutputOf }) {
  const server = await startFaultServer();
  const resumes = [];
  try {
    server.enqueueFor('/responses', ...plan.map((entry) => faultOf(entry, config)));
    // Creates beyond the plan (a retried create) get undisturbed streams of the same shape.
    server.enqueueFor('/responses', ...plan.map(() => faultOf({ fault: 'none' }, config)));
    const client = makeClient(server.url);
    client.resilience?.on('streamResume', (event) => resumes.push(event));
    const results = new Array(plan.length);
    const started = performance.now();
    await countedLoop({
      callers: config.concurrency,
      calls: plan.length,
      call: async (i) => {
        const t0 = performance.now();
        const { events, error } = await readStream(client, inputOf(i), watchdog);
        results[i] = { events, error, ms: performance.now() - t0 };
      },
    });
    const seconds = (performance.now() - started) / 1000;
    return summarize(label, server.requests, results, { plan, reference, resumes, seconds, expected, partialOf });
  } finally {
    await server.close();
  }
}

/** Where `events` first differs from `reference`: its index and both events (shortened). */
function firstDifference(events, reference) {
  const at = events.findIndex((e, j) => e !== reference[j]);
  const index = at >= 0 ? at : Math.min(events.length, reference.length);
  const [a = '', b = ''] = [reference[index], events[index]];
  let from = 0;
  while (from < a.length && a[from] === b[from]) from++;
  const around = (text) => text.slice(Math.max(0, from - 80), from + 80);
  return { at: index, events: events.length, expected: reference[index] === undefined ? null : around(a), got: events[index] === undefined ? null : around(b) };
}

/**
 * What becomes of a creating request met by `entry`'s fault on a client without resume (the bare SDK, and
 * `resilient()` before resume or with it off): a stream disturbed before its first delta (nothing meaningful
 * arrived) is retried by `resilient()` (a new create), one disturbed later fails.
 */
export function withoutResume(entry, retries) {
  if (entry.fault === 'none') return 'completed';
  return retries && entry.after <= PREAMBLE_EVENTS ? 'retried' : 'failed';
}

/** With resume: a create disturbed before `response.created` is retried (no response id yet), any other resumed. */
export function withResume(entry) {
  if (entry.fault === 'none') return 'completed';
  return entry.after === 0 ? 'retried' : 'resumed';
}

/**
 * Outcomes of one run, per stream and per creating request. Each creating request got the plan's fault of
 * its arrival (the fault server takes its queue in order; a retried create takes the next one, as any
 * create); the requests of a stream are found by its `input` (creates) and its response ids (resumes and
 * lookups: `GET /responses/{id}`). `expected(entry)` says what should become of a create met by `entry`.
 */
function summarize(label, requests, results, { plan, reference, resumes, seconds, expected, partialOf }) {
  const responseId = (r) => `resp_${r.requestId.replace(/^req_/, '')}`;
  const creates = requests
    .filter((r) => r.method === 'POST' && r.path === '/responses')
    .map((r, k) => ({ id: responseId(r), stream: streamOfInput(r.body?.input), ...(plan[k] ?? { fault: 'none' }) }));
  const createOf = new Map(creates.map((c) => [c.id, c]));
  const requestsOfStream = new Array(plan.length).fill(0);
  const resumed = new Set();
  for (const r of requests) {
    const stream = r.method === 'POST' ? streamOfInput(r.body?.input) : createOf.get(r.path.split('/')[2])?.stream;
    if (Number.isInteger(stream)) requestsOfStream[stream]++;
    if (r.method === 'GET' && r.query.stream === 'true') resumed.add(r.path.split('/')[2]);
  }
  const streams = results.map((result, i) => {
    const complete = result.error === undefined && result.events.at(-1)?.includes('"type":"response.completed"') === true;
    const identical = complete && result.events.length === reference.length && result.events.every((e, j) => e === reference[j]);
    const met = creates.filter((c) => c.stream === i);
    return {
      stream: i,
      faults: met.filter((c) => c.fault !== 'none').map((c) => `${c.fault} after ${c.after}`),
      complete,
      identical,
      events: result.events.length,
      requests: requestsOfStream[i],
      ms: round(result.ms, 1),
      error: describeError(result.error, partialOf),
      ...(complete && !identical ? { difference: firstDifference(result.events, reference) } : {}),
    };
  });
  // What became of each create: retried (its stream made another), else resumed, completed or failed as its stream.
  for (const c of creates) {
    const stream = streams[c.stream];
    const last = creates.findLast((other) => other.stream === c.stream) === c;
    c.outcome = !last ? 'retried' : !stream.complete ? 'failed' : resumed.has(c.id) ? 'resumed' : 'completed';
    c.expected = expected(c);
  }
  const disturbedCreates = creates.filter((c) => c.fault !== 'none');
  const disturbed = streams.filter((s) => s.faults.length > 0);
  const failed = streams.filter((s) => !s.complete);
  const share = (list, pick) => (list.length === 0 ? null : list.filter(pick).length / list.length);
  return {
    subject: label,
    seconds: round(seconds, 2),
    streams: streams.length,
    requests: requests.length,
    requestsPerStream: requests.length / streams.length,
    byKind: countBy(requests, (r) => (r.method === 'POST' ? 'create' : r.query.stream === 'true' ? 'resume' : 'status lookup')),
    complete: share(streams, (s) => s.complete),
    identical: share(streams, (s) => s.identical),
    disturbed: { count: disturbed.length, complete: share(disturbed, (s) => s.complete), identical: share(disturbed, (s) => s.identical) },
    creates: {
      count: creates.length,
      disturbed: disturbedCreates.length,
      outcomes: countBy(disturbedCreates, (c) => c.outcome),
      asExpected: share(creates, (c) => c.outcome === c.expected),
      unexpected: creates.filter((c) => c.outcome !== c.expected),
    },
    failed: {
      count: failed.length,
      errors: countBy(failed, (s) => s.error?.name ?? 'ended early without an error'),
      // Failed after their first event: what partialOutputOf answers for.
      afterFirstEvent: failed.filter((s) => s.events > 0).length,
      withPartial: failed.filter((s) => s.events > 0 && s.error?.partial === true).length,
    },
    resumes: { count: resumes.length, byFailure: countBy(resumes, (e) => e.failure) },
    streamMs: { p50: round(percentile(streams.map((s) => s.ms), 50), 1), p99: round(percentile(streams.map((s) => s.ms), 99), 1) },
    // Every disturbed stream, and any other that did not complete identically.
    details: streams.filter((s) => s.faults.length > 0 || !s.identical),
  };
}

/** The comparable events of one undisturbed stream of the workload's shape (the bare SDK, a fresh server). */
export async function referenceStream(config) {
  const server = await startFaultServer();
  try {
    server.enqueueFor('/responses', faultOf({ fault: 'none' }, config));
    const { events, error } = await readStream(new OpenAI({ apiKey: 'sk-bench', baseURL: server.url, maxRetries: 0 }), inputOf('ref'));
    if (error) throw error;
    return events;
  } finally {
    await server.close();
  }
}

/** Runs `2 × concurrency` undisturbed streams through a client of `makeClient`, against a throwaway server. */
export async function warmUp(makeClient, config) {
  const server = await startFaultServer();
  try {
    const client = makeClient(server.url);
    const count = 2 * config.concurrency;
    server.enqueueFor('/responses', ...Array.from({ length: count }, () => faultOf({ fault: 'none' }, config)));
    await countedLoop({ callers: config.concurrency, calls: count, call: (i) => readStream(client, inputOf(i)) });
  } finally {
    await server.close();
  }
}
