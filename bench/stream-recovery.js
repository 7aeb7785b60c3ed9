// Case "stream-recovery" (issue 25): 200 background Responses streams (`responses.create({ background:
// true, stream: true })`, 20 deltas each, a few milliseconds apart) against a loopback fault server, 20 at a
// time; 20% of them disturbed on their creating connection: half cut (the socket destroyed), half stalled
// (the socket held open, silent), after a number of events drawn with a seeded PRNG over the whole stream
// (0: right after the 200; 5: before the first delta; the last: just before `response.completed`; those
// edges are always in the plan, the rest drawn at random). The same workload runs three times, each
// against a fresh server, side by side:
//
// - the bare SDK (no resume: it cannot; a stall would hang it forever, so the bench ends a stream that
//   stands still for `timeout.idle` with its own watchdog, and counts it as failed);
// - `resilient()` with `streaming: { maxResumes: 0 }` (recovery off): what a user who turns it off gets,
//   compared with what a client without resume gets: the streams disturbed after their first event fail,
//   after one request each, and every such error carries `partialOutputOf(error)`;
// - `resilient()` (recovery on, `maxResumes` 3 by default): every stream must complete with the events of
//   an undisturbed stream of the same shape (compared one by one, ids and `created_at` normalised), in at
//   most 1.3 upstream requests a stream (`server.requests`: creates, resumes, status lookups, retries).
//
// Real clock: `timeout.idle` is short (200 ms) so that stalls resolve fast. The fault server's scripted
// faults go to the creating requests in arrival order (`enqueueFor('/responses')`); a resume
// (`GET /responses/{id}?stream=true&starting_after=N`) replays the stored events undisturbed.
//
// Environment: STREAM_RECOVERY_STREAMS (default 200), STREAM_RECOVERY_CONCURRENCY (20),
// STREAM_RECOVERY_CHUNKS (deltas a stream, 20), STREAM_RECOVERY_INTERVAL_MS (between deltas, 3),
// STREAM_RECOVERY_IDLE_MS (`timeout.idle`, 200), STREAM_RECOVERY_SEED (25).
import OpenAI from 'openai';
import { partialOutputOf, resilient } from '../dist/index.js';
import { seededRandom } from '../dist/testing/capacity.js';
import { faults, startFaultServer } from '../dist/testing/index.js';
import { checkTarget, countBy, markdownTable, pct, percentile, positiveEnv, reportTargets, round } from './report.js';

const MODEL = 'gpt-4.1-mini';
const DISTURBED_SHARE = 0.2;
/** Events of a background stream before its first delta: created, queued, in_progress, output_item.added, content_part.added. */
const PREAMBLE_EVENTS = 5;
/** After the deltas: output_text.done, content_part.done, output_item.done, then response.completed. */
const TAIL_EVENTS = 4;
// Issue 25: every disturbed stream completes, identical to an undisturbed one, in ≤ 1.3 requests a stream.
const TARGETS = { complete: 1, identical: 1, requestsPerStream: 1.3 };

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
function workload({ streams, chunks, seed }) {
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

/** The input of stream `i`: of one length for every stream (the usage in `response.completed` counts its tokens). */
const inputOf = (i) => `stream ${String(i).padStart(5, '0')}`;
const streamOfInput = (input) => Number(String(input).replace('stream ', ''));

/** Runs `task(i)` for i in 0..count-1, `concurrency` at a time. */
async function pooled(count, concurrency, task) {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

/**
 * Iterates one stream into comparable events; for the bare SDK, `watchdogMs` ends a stream that stands still
 * that long (the SDK has no idle timeout: a stalled stream would never end).
 */
async function readStream(client, input, watchdogMs) {
  const controller = new AbortController();
  let timer;
  const arm = () => {
    if (watchdogMs === undefined) return;
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new Error(`no event for ${watchdogMs} ms (bench watchdog)`)), watchdogMs);
  };
  const events = [];
  let error;
  try {
    arm();
    const stream = await client.responses.create({ model: MODEL, input, background: true, stream: true }, { signal: controller.signal });
    for await (const event of stream) {
      arm();
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
function describeError(error) {
  if (error === undefined) return undefined;
  const partial = partialOutputOf(error);
  return {
    name: error?.constructor?.name ?? typeof error,
    message: String(error?.message ?? error).slice(0, 120),
    partial: partial !== undefined,
    partialText: partial?.text?.length ?? null,
  };
}

/** One run of the workload through `makeClient(baseURL)` against a fresh server. */
async function runWorkload(label, makeClient, { plan, config, reference, watchdogMs }) {
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
    await pooled(plan.length, config.concurrency, async (i) => {
      const t0 = performance.now();
      const { events, error } = await readStream(client, inputOf(i), watchdogMs);
      results[i] = { events, error, ms: performance.now() - t0 };
    });
    const seconds = (performance.now() - started) / 1000;
    return summarize(label, server.requests, results, { plan, reference, resumes, seconds });
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
 * Outcomes of one run, per stream and over the disturbed ones. Each creating request got the plan's fault of
 * its arrival (the fault server takes its queue in order); the requests of a stream are found by its `input`
 * (creates) and its response ids (resumes and lookups: `GET /responses/{id}`).
 */
function summarize(label, requests, results, { plan, reference, resumes, seconds }) {
  const creates = requests.filter((r) => r.method === 'POST' && r.path === '/responses');
  const faultByResponse = new Map();
  const streamOfResponse = new Map();
  creates.forEach((r, k) => {
    const id = `resp_${r.requestId.replace(/^req_/, '')}`;
    faultByResponse.set(id, plan[k] ?? { fault: 'none' });
    streamOfResponse.set(id, streamOfInput(r.body?.input));
  });
  const requestsOfStream = new Array(plan.length).fill(0);
  for (const r of requests) {
    const stream = r.method === 'POST' ? streamOfInput(r.body?.input) : streamOfResponse.get(r.path.split('/')[2]);
    if (stream !== undefined && Number.isInteger(stream)) requestsOfStream[stream]++;
  }
  // The fault a stream met first (that of its first create).
  const faultOfStream = new Array(plan.length);
  for (const [id, entry] of faultByResponse) {
    const stream = streamOfResponse.get(id);
    if (faultOfStream[stream] === undefined) faultOfStream[stream] = entry;
  }
  const streams = results.map((result, i) => {
    const complete = result.error === undefined && result.events.at(-1)?.includes('"type":"response.completed"') === true;
    const identical = complete && result.events.length === reference.length && result.events.every((e, j) => e === reference[j]);
    return {
      stream: i,
      fault: faultOfStream[i]?.fault ?? 'none',
      after: faultOfStream[i]?.after ?? null,
      complete,
      identical,
      events: result.events.length,
      requests: requestsOfStream[i],
      ms: round(result.ms, 1),
      error: describeError(result.error),
      ...(complete && !identical ? { difference: firstDifference(result.events, reference) } : {}),
    };
  });
  const disturbed = streams.filter((s) => s.fault !== 'none');
  const undisturbed = streams.filter((s) => s.fault === 'none');
  const failed = streams.filter((s) => !s.complete);
  const share = (list, pick) => (list.length === 0 ? null : list.filter(pick).length / list.length);
  return {
    subject: label,
    seconds: round(seconds, 2),
    streams: streams.length,
    requests: requests.length,
    requestsPerStream: requests.length / streams.length,
    byMethod: countBy(requests, (r) => (r.method === 'POST' ? 'create' : r.query.stream === 'true' ? 'resume' : 'status lookup')),
    complete: share(streams, (s) => s.complete),
    identical: share(streams, (s) => s.identical),
    disturbed: {
      count: disturbed.length,
      complete: share(disturbed, (s) => s.complete),
      identical: share(disturbed, (s) => s.identical),
      requestsPerStream: disturbed.length === 0 ? null : disturbed.reduce((sum, s) => sum + s.requests, 0) / disturbed.length,
      // Failed after their first event: what partialOutputOf answers for.
      failedWithPartial: share(
        disturbed.filter((s) => !s.complete && s.events > 0),
        (s) => s.error?.partial === true,
      ),
    },
    undisturbed: { count: undisturbed.length, complete: share(undisturbed, (s) => s.complete), identical: share(undisturbed, (s) => s.identical) },
    errors: countBy(failed, (s) => s.error?.name ?? 'ended early without an error'),
    resumes: { count: resumes.length, byFailure: countBy(resumes, (e) => e.failure) },
    streamMs: { p50: round(percentile(streams.map((s) => s.ms), 50), 1), p99: round(percentile(streams.map((s) => s.ms), 99), 1) },
    // Every disturbed stream, and any other that did not complete identically.
    details: streams.filter((s) => s.fault !== 'none' || !s.identical),
  };
}

/** The comparable events of one undisturbed stream of the workload's shape (the bare SDK, a fresh server). */
async function referenceStream(config) {
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

/**
 * The expectation for recovery off, per disturbed stream: what a client without resume does. A stream cut or
 * stalled after its first event fails after its one request; one disturbed before any event is retried by the
 * retry policy, as before (nothing was handed to the caller yet).
 */
function recoveryOffAsBefore(run) {
  const committed = run.details.filter((s) => s.fault !== 'none' && s.after > 0);
  const early = run.details.filter((s) => s.fault !== 'none' && s.after === 0);
  return {
    committed: committed.length,
    committedFailedAfterOneRequest: committed.filter((s) => !s.complete && s.requests === 1).length,
    committedWithPartial: committed.filter((s) => s.error?.partial === true).length,
    early: early.length,
    earlyCompleted: early.filter((s) => s.complete).length,
    earlyRequests: early.map((s) => s.requests),
  };
}

export const streamRecovery = {
  name: 'stream-recovery',
  title: 'stream-recovery: background Responses streams cut or stalled at a random point, resumed where they stopped',
  async run() {
    const config = {
      streams: Math.floor(positiveEnv('STREAM_RECOVERY_STREAMS', 200)),
      concurrency: Math.floor(positiveEnv('STREAM_RECOVERY_CONCURRENCY', 20)),
      chunks: Math.floor(positiveEnv('STREAM_RECOVERY_CHUNKS', 20)),
      intervalMs: positiveEnv('STREAM_RECOVERY_INTERVAL_MS', 3),
      idleMs: positiveEnv('STREAM_RECOVERY_IDLE_MS', 200),
      firstChunkMs: positiveEnv('STREAM_RECOVERY_FIRST_CHUNK_MS', 1_000),
      seed: Math.floor(positiveEnv('STREAM_RECOVERY_SEED', 25)),
      disturbedShare: DISTURBED_SHARE,
    };
    const { events, plan } = workload(config);
    config.eventsPerStream = events;
    console.log(
      `\n== stream-recovery: ${config.streams} background Responses streams of ${config.chunks} deltas (${events} events, ${config.intervalMs} ms ` +
        `between deltas), ${config.concurrency} at a time, ${pct(DISTURBED_SHARE, 0)} cut or stalled at a random event (seed ${config.seed}); ` +
        `timeout.idle ${config.idleMs} ms, real clock`,
    );
    const reference = await referenceStream(config);
    const timeout = { idle: config.idleMs, firstChunk: config.firstChunkMs };
    const subjects = [
      {
        key: 'bare',
        label: 'bare SDK',
        make: (baseURL) => new OpenAI({ apiKey: 'sk-bench', baseURL }),
        watchdogMs: config.idleMs,
      },
      {
        key: 'off',
        label: 'resilient(), maxResumes: 0',
        make: (baseURL) => resilient(new OpenAI({ apiKey: 'sk-bench', baseURL }), { timeout, streaming: { maxResumes: 0 } }),
      },
      { key: 'on', label: 'resilient()', make: (baseURL) => resilient(new OpenAI({ apiKey: 'sk-bench', baseURL }), { timeout }) },
    ];
    const runs = [];
    for (const s of subjects) {
      const run = await runWorkload(s.label, s.make, { plan, config, reference, watchdogMs: s.watchdogMs });
      runs.push({ key: s.key, ...run });
      console.log(
        `   ${s.label}: ${pct(run.complete)} complete (disturbed: ${pct(run.disturbed.complete)}), ${pct(run.identical)} identical to the reference, ` +
          `${run.requests} requests (${run.requestsPerStream.toFixed(2)} a stream), ${run.resumes.count} resumes, ${run.seconds} s`,
      );
    }
    const on = runs.find((r) => r.key === 'on');
    const off = runs.find((r) => r.key === 'off');
    const bare = runs.find((r) => r.key === 'bare');
    const offCheck = recoveryOffAsBefore(off);
    const bareCheck = recoveryOffAsBefore(bare);
    console.table(
      Object.fromEntries(
        runs.map((r) => [
          r.subject,
          {
            complete: pct(r.complete),
            'disturbed complete': pct(r.disturbed.complete),
            identical: pct(r.identical),
            'requests / stream': r.requestsPerStream.toFixed(2),
            resumes: r.resumes.count,
            errors: JSON.stringify(r.errors),
          },
        ]),
      ),
    );
    const format = (v) => pct(v);
    const count = (v) => String(v);
    const targets = [
      checkTarget('resilient(): streams complete', on.complete, { atLeast: TARGETS.complete, format }),
      checkTarget('resilient(): streams identical to an undisturbed run (events, ids and created_at normalised)', on.identical, { atLeast: TARGETS.identical, format }),
      checkTarget('resilient(): upstream requests a stream', on.requestsPerStream, { atMost: TARGETS.requestsPerStream, format: (v) => v.toFixed(2) }),
      checkTarget(
        `recovery off: streams disturbed after their first event that fail after 1 request, as without resume (of ${offCheck.committed})`,
        offCheck.committedFailedAfterOneRequest,
        { atLeast: offCheck.committed, format: count },
      ),
      checkTarget(`recovery off: their errors carrying partialOutputOf(error) (of ${offCheck.committed})`, offCheck.committedWithPartial, {
        atLeast: offCheck.committed,
        format: count,
      }),
      checkTarget('recovery off: upstream requests, less the bare SDK\'s', off.requests - bare.requests - (offCheck.earlyCompleted ? offCheck.early : 0), {
        atMost: 0,
        format: count,
      }),
    ];
    return reportTargets('stream-recovery', 'stream-recovery targets:', targets, {
      case: 'stream-recovery',
      config,
      plan: countBy(plan, (p) => p.fault),
      notes: [],
      runs,
      recoveryOff: offCheck,
      bare: bareCheck,
    });
  },

  document(result) {
    const { config, runs } = result;
    const rows = runs.map((r) => [
      r.subject,
      pct(r.complete),
      `${pct(r.disturbed.complete)} of ${r.disturbed.count}`,
      pct(r.identical),
      `${r.requests} (${r.requestsPerStream.toFixed(2)})`,
      r.resumes.count,
      Object.entries(r.errors)
        .map(([name, n]) => `${name} ×${n}`)
        .join(', ') || 'none',
    ]);
    return {
      markdown: [
        `${config.streams} background Responses streams, ${config.concurrency} at a time, against a loopback fault server.`,
        '',
        markdownTable(['client', 'complete', 'disturbed complete', 'identical to undisturbed', 'requests (a stream)', 'resumes', 'errors'], rows),
      ].join('\n'),
      charts: {},
    };
  },
};
