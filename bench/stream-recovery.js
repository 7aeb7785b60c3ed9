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
import { resilient } from '../dist/index.js';
import { DISTURBED_SHARE, PREAMBLE_EVENTS, referenceStream, runWorkload, warmUp, withoutResume, withResume, workload } from './stream-recovery-background.js';
import { chatContinuation, chatSection } from './stream-recovery-chat.js';
import { checkTarget, countBy, markdownTable, pct, positiveEnv, reportTargets } from './report.js';

// Issue 25: every disturbed stream completes, identical to an undisturbed one, in ≤ 1.3 requests a stream.
const TARGETS = { complete: 1, identical: 1, requestsPerStream: 1.3 };

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
