// Case "stream-recovery" (issue 25): 200 background Responses streams (`responses.create({ background:
// true, stream: true })`, 20 deltas each, a few milliseconds apart) against a loopback fault server, 20 at a
// time; 20% of them disturbed on their creating connection: half cut (the socket destroyed), half stalled
// (the socket held open, silent), after a number of events drawn with a seeded PRNG over the whole stream
// (0: right after the 200; 5: before the first delta; the last: just before `response.completed`; those
// edges are always in the plan, the rest drawn at random). The same plan runs on each client, each against
// a fresh server, side by side:
//
// - the bare SDK (no resume; it has no idle timeout either, so the bench ends a stream that stands still as
//   long as `resilient()` would with its own watchdog, and counts it as failed);
// - `resilient()` with `streaming: { maxResumes: 0 }` (recovery off), which must act as a client without
//   resume (as `resilient()` did before resume existed): a stream disturbed before its first delta is retried
//   (a new create: nothing meaningful had arrived), one disturbed after it fails after its one request, and
//   every such error carries `partialOutputOf(error)`;
// - `resilient()` (recovery on, `maxResumes` 3 by default): every stream must complete with the events of
//   an undisturbed stream of the same shape (compared one by one, ids and `created_at` normalised), in at
//   most 1.3 upstream requests a stream (`server.requests`: creates, resumes, status lookups).
//
// Real clock: `timeout.idle` is short (200 ms) so that stalls resolve fast, `timeout.firstChunk` 1 s (a
// stall before any event). Each client first streams a few undisturbed responses (cold code would otherwise
// be measured as stalls). The fault server's scripted faults go to the creating requests in arrival order
// (`enqueueFor('/responses')`; a retried create takes the next, as any create); a resume
// (`GET /responses/{id}?stream=true&starting_after=N`) replays the stored events undisturbed.
//
// Then the chat part (bench/stream-recovery-chat.js): 200 chat streams, 20% cut mid-text, read with
// `streaming: { continuation: 'prefix' }` and without; ≥ 99% complete, no span twice or missing at a seam.
//
// Environment: STREAM_RECOVERY_STREAMS (default 200), STREAM_RECOVERY_CONCURRENCY (20),
// STREAM_RECOVERY_CHUNKS (deltas a stream, 20), STREAM_RECOVERY_INTERVAL_MS (between deltas, 3),
// STREAM_RECOVERY_IDLE_MS (`timeout.idle`, 200), STREAM_RECOVERY_FIRST_CHUNK_MS (`timeout.firstChunk`, 1000),
// STREAM_RECOVERY_SEED (25). STREAM_RECOVERY_BASELINE (a dist/ folder of another build) adds that build's
// `resilient()`, named STREAM_RECOVERY_BASELINE_LABEL: e.g. one from before resume, to show that recovery off
// acts as it did (`git archive f19696a | tar -x -C /tmp/before`, link node_modules, `npm run build` there).
import { pathToFileURL } from 'node:url';
import OpenAI from 'openai';
import { partialOutputOf, resilient } from '../dist/index.js';
import { seededRandom } from '../dist/testing/capacity.js';
import { faults, startFaultServer } from '../dist/testing/index.js';
import { chatContinuation, chatSection } from './stream-recovery-chat.js';
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

/** How the bench's watchdog ends a bare SDK stream that stands still (the SDK has no idle timeout). */
class WatchdogError extends Error {}

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
async function runWorkload(label, makeClient, { plan, config, reference, watchdog, expected, partialOutputOf: partialOf = partialOutputOf }) {
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
      const { events, error } = await readStream(client, inputOf(i), watchdog);
      results[i] = { events, error, ms: performance.now() - t0 };
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
function withoutResume(entry, retries) {
  if (entry.fault === 'none') return 'completed';
  return retries && entry.after <= PREAMBLE_EVENTS ? 'retried' : 'failed';
}

/** With resume: a create disturbed before `response.created` is retried (no response id yet), any other resumed. */
function withResume(entry) {
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

/** Runs `2 × concurrency` undisturbed streams through a client of `makeClient`, against a throwaway server. */
async function warmUp(makeClient, config) {
  const server = await startFaultServer();
  try {
    const client = makeClient(server.url);
    const count = 2 * config.concurrency;
    server.enqueueFor('/responses', ...Array.from({ length: count }, () => faultOf({ fault: 'none' }, config)));
    await pooled(count, config.concurrency, (i) => readStream(client, inputOf(i)));
  } finally {
    await server.close();
  }
}

/**
 * The clients compared: the bare SDK (with the bench's watchdog), `resilient()` with recovery off and on, and
 * with STREAM_RECOVERY_BASELINE (the dist/ folder of another build, e.g. one from before resume) that build's
 * `resilient()` with the same timeouts.
 */
async function clients(config) {
  const timeout = { idle: config.idleMs, firstChunk: config.firstChunkMs };
  const sdk = (baseURL) => new OpenAI({ apiKey: 'sk-bench', baseURL });
  const list = [
    {
      key: 'bare',
      label: 'bare SDK',
      make: sdk,
      watchdog: { firstChunkMs: config.firstChunkMs, idleMs: config.idleMs },
      expected: (entry) => withoutResume(entry, false),
    },
  ];
  const baseline = process.env.STREAM_RECOVERY_BASELINE;
  if (baseline) {
    const other = await import(pathToFileURL(`${baseline.replace(/\/$/, '')}/index.js`).href);
    list.push({
      key: 'baseline',
      label: `resilient() of ${process.env.STREAM_RECOVERY_BASELINE_LABEL || baseline}`,
      make: (baseURL) => other.resilient(sdk(baseURL), { timeout }),
      partialOutputOf: other.partialOutputOf,
      expected: (entry) => withoutResume(entry, true),
    });
  }
  list.push(
    {
      key: 'off',
      label: 'resilient(), maxResumes: 0',
      make: (baseURL) => resilient(sdk(baseURL), { timeout, streaming: { maxResumes: 0 } }),
      expected: (entry) => withoutResume(entry, true),
    },
    { key: 'on', label: 'resilient()', make: (baseURL) => resilient(sdk(baseURL), { timeout }), expected: withResume },
  );
  return list;
}

/** `{ name: count }` as `name ×count, ...`. */
const counts = (object) =>
  Object.entries(object)
    .map(([name, n]) => `${name} ×${n}`)
    .join(', ') || 'none';

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
        `between deltas), ${config.concurrency} at a time, ${pct(DISTURBED_SHARE, 0)} cut or stalled after a random number of events (seed ${config.seed}); ` +
        `timeout.idle ${config.idleMs} ms, timeout.firstChunk ${config.firstChunkMs} ms, real clock`,
    );
    const reference = await referenceStream(config);
    const subjects = await clients(config);
    // Cold code (the first streams of a process) would be measured as stalls against so short an idle limit.
    for (const s of subjects) await warmUp(s.make, config);
    const runs = [];
    for (const s of subjects) {
      const run = await runWorkload(s.label, s.make, { plan, config, reference, watchdog: s.watchdog, expected: s.expected, partialOutputOf: s.partialOutputOf });
      runs.push({ key: s.key, ...run });
      console.log(
        `   ${s.label}: ${pct(run.complete)} complete (disturbed: ${pct(run.disturbed.complete)}), ${pct(run.identical)} identical to the reference, ` +
          `${run.requests} requests (${run.requestsPerStream.toFixed(2)} a stream: ${counts(run.byKind)}), ${run.resumes.count} resumes, ${run.seconds} s`,
      );
    }
    console.table(
      Object.fromEntries(
        runs.map((r) => [
          r.subject,
          {
            complete: pct(r.complete),
            'disturbed complete': pct(r.disturbed.complete),
            identical: pct(r.identical),
            'requests / stream': r.requestsPerStream.toFixed(2),
            'disturbed creates': counts(r.creates.outcomes),
            errors: counts(r.failed.errors),
          },
        ]),
      ),
    );
    const on = runs.find((r) => r.key === 'on');
    const off = runs.find((r) => r.key === 'off');
    const bare = runs.find((r) => r.key === 'bare');
    const baseline = runs.find((r) => r.key === 'baseline');
    // Recovery off: what a client without resume does. A create disturbed before its first delta is retried (a
    // new create, as before resume), one disturbed later fails after its one request, with the partial output.
    const expectedCreates = config.streams + plan.filter((p) => p.fault !== 'none' && p.after <= PREAMBLE_EVENTS).length;
    const targets = [
      checkTarget('resilient(): streams complete', on.complete, { atLeast: TARGETS.complete, format: (v) => pct(v) }),
      checkTarget('resilient(): streams identical to an undisturbed one (events; ids, created_at normalised)', on.identical, {
        atLeast: TARGETS.identical,
        format: (v) => pct(v),
      }),
      checkTarget('resilient(): upstream requests a stream', on.requestsPerStream, { atMost: TARGETS.requestsPerStream, format: (v) => v.toFixed(2) }),
      checkTarget('recovery off: disturbed creates that fail or are retried as without resume', off.creates.asExpected, { atLeast: 1, format: (v) => pct(v) }),
      checkTarget(
        `recovery off: upstream requests, as without resume (${expectedCreates}: one a stream, one more a stream disturbed before its first delta)`,
        off.requests,
        { atMost: expectedCreates, format: String },
      ),
      checkTarget('recovery off: errors after the first event carrying partialOutputOf(error)', off.failed.afterFirstEvent === 0 ? null : off.failed.withPartial / off.failed.afterFirstEvent, {
        atLeast: 1,
        format: (v) => pct(v),
      }),
    ];
    if (baseline) {
      targets.push(
        checkTarget(`recovery off: upstream requests, less those of ${baseline.subject}`, off.requests - baseline.requests, { atMost: 0, format: String }),
      );
    }
    const chat = await chatContinuation(config);
    targets.push(...chat.targets);
    return reportTargets('stream-recovery', 'stream-recovery targets:', targets, {
      case: 'stream-recovery',
      config,
      plan: countBy(plan, (p) => (p.fault === 'none' ? 'none' : `${p.fault}${p.after <= PREAMBLE_EVENTS ? ' before the first delta' : ''}`)),
      notes: [
        'Each client runs the same plan of faults against a fresh fault server; a creating request gets the fault of its arrival (a retried create takes the next one, as any create does).',
        'identical: the events the caller iterated, each as JSON with every resp_/msg_ id and created_at replaced, equal one by one to those of an undisturbed stream of the same shape.',
        'The bare SDK has no idle timeout: the bench ends its streams that stand still for timeout.firstChunk before the first event, timeout.idle after (a watchdog aborting the request).',
        `recovery off is expected to act as a client without resume: a stream disturbed before its first delta is retried by the retry policy (a new create: nothing meaningful had arrived), one disturbed after it fails after its one request with the SDK's connection error (cut) or StreamIdleTimeoutError (stall), carrying partialOutputOf(error).`,
      ],
      runs,
      bare: { complete: bare.complete, requests: bare.requests },
      chat: chat.result,
    });
  },

  document(result) {
    const { config, runs } = result;
    const rows = runs.map((r) => [
      r.subject,
      pct(r.complete),
      `${pct(r.disturbed.complete)} of ${r.disturbed.count}`,
      pct(r.identical),
      `${r.requests} (${r.requestsPerStream.toFixed(2)}): ${counts(r.byKind)}`,
      counts(r.creates.outcomes),
      counts(r.failed.errors),
      r.failed.afterFirstEvent === 0 ? 'n/a' : `${r.failed.withPartial} of ${r.failed.afterFirstEvent}`,
    ]);
    return {
      markdown: [
        `${config.streams} background Responses streams (\`responses.create({ background: true, stream: true })\`, ${config.chunks} deltas: ` +
          `${config.eventsPerStream} events, ${config.intervalMs} ms between deltas), ${config.concurrency} at a time, against a loopback fault server; ` +
          `${pct(config.disturbedShare, 0)} of them disturbed on their creating connection, half cut and half stalled after a number of events drawn ` +
          `with a seeded PRNG (seed ${config.seed}; 0, 5 (before the first delta) and ${config.eventsPerStream - 1} (just before \`response.completed\`) ` +
          'always among them). The same plan runs on each client against a fresh server. `resilient()` runs with ' +
          `\`timeout: { idle: ${config.idleMs}, firstChunk: ${config.firstChunkMs} }\` (real clock); the bare SDK, which has no idle timeout, ` +
          'is stopped by the bench after as long without an event (`WatchdogError`). "Identical": the events the caller iterated equal those of an undisturbed ' +
          'stream, one by one (ids and `created_at` normalised). Requests are all those the server received: creates, resumes ' +
          '(`GET /responses/{id}?stream=true&starting_after=N`) and status lookups.',
        '',
        markdownTable(
          ['client', 'complete', 'disturbed complete', 'identical to undisturbed', 'requests (a stream): kinds', 'disturbed creates', 'errors', 'errors with partial output'],
          rows,
        ),
        '',
        'With recovery off (`streaming: { maxResumes: 0 }`), a client acts as without resume: a stream disturbed before its first delta is ' +
          'retried (a new create, as before resume existed: nothing meaningful had arrived), one disturbed after it fails after its one request ' +
          "with the SDK's connection error (cut) or `StreamIdleTimeoutError` (stall), carrying `partialOutputOf(error)`.",
        ...(result.chat ? ['', chatSection(result.chat)] : []),
      ].join('\n'),
      charts: {},
    };
  },
};
