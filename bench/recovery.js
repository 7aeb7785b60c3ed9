// Case "recovery": 10 closed-loop callers against a loopback upstream that answers every request with a
// 500 for 20 s, then recovers. Measures, for each subject, the requests the upstream received during the
// outage and the time from its recovery to the first call that succeeds (real timers, real sockets).
// Subjects run one after the other, each against a fresh server, in alternating order over several rounds;
// medians are reported. The subjects are the comparative cases' (bench/subjects/: the bare SDK, the
// alternatives, resilient(); BENCH_SUBJECTS picks some), each with its defaults.
//
// The recovery comes at a moment drawn in [20 s, 21 s) for each run. A client that retries or probes on a
// schedule started by the outage (backoff without jitter, a circuit's pauses) would otherwise always see it
// at the same point between two of its attempts, and a fixed 20 s would measure that point, not the client.
import { Buffer } from 'node:buffer';
import { createServer } from 'node:http';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { chatCompletion, errorBody } from '../dist/testing/index.js';
import { describeSubjects, subjectColors, subjectsTable } from './subjects/describe.js';
import { loadSubjects } from './subjects/index.js';
import { barChart } from './svg-chart.js';
import { checkTarget, markdownTable, median, positiveEnv, reportTargets, round } from './report.js';

const CALLERS = 10;
const PARAMS = { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'Say ok' }] };
/** The recovery comes up to this much after the outage's nominal length (see the top of this file). */
const RECOVERY_SPREAD_MS = 1_000;
/** After the recovery, how long a subject may take to succeed before it is stopped (and its time reported as more). */
const MAX_RECOVERY_MS = 60_000;
// Issue 22: back within 1 s of the recovery, at most one request a second per model during the outage.
const TARGETS = { firstSuccessMs: 1_000, requestsPerSecond: 1 };


/** An OpenAI-like upstream on loopback: a 500 for every request until `recoverAt` (performance.now()), then a completion. */
async function outageServer() {
  const failure = JSON.stringify(
    errorBody({ message: 'The server had an error while processing your request.', type: 'server_error', code: 'server_error', param: null }),
  );
  const success = JSON.stringify(chatCompletion({ id: 'chatcmpl-recovery', model: PARAMS.model }));
  const upstream = { recoverAt: Number.POSITIVE_INFINITY, arrivals: [] };
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const now = performance.now();
      upstream.arrivals.push(now);
      const ok = now >= upstream.recoverAt;
      const body = ok ? success : failure;
      res.writeHead(ok ? 200 : 500, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-request-id': `req_${upstream.arrivals.length}` });
      res.end(body);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  upstream.url = `http://127.0.0.1:${server.address().port}/v1`;
  upstream.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return upstream;
}

/** One run of one subject: the outage, then callers until the first success after the recovery. */
async function runOne(subject, outageMs) {
  outageMs += Math.random() * RECOVERY_SPREAD_MS;
  const upstream = await outageServer();
  const controller = new AbortController();
  await subject.open?.();
  try {
    const client = subject.makeClient({ baseURL: upstream.url });
    const startedAt = performance.now();
    upstream.recoverAt = startedAt + outageMs;
    let firstSuccessAt;
    let stop;
    const stopped = new Promise((resolve) => (stop = resolve));
    const counts = { calls: 0, failedDuringOutage: 0 };
    const caller = async () => {
      while (!controller.signal.aborted) {
        counts.calls++;
        try {
          await client.chat.completions.create(PARAMS, { signal: controller.signal });
          const now = performance.now();
          if (now >= upstream.recoverAt && firstSuccessAt === undefined) {
            firstSuccessAt = now;
            stop();
          }
        } catch {
          if (performance.now() < upstream.recoverAt) counts.failedDuringOutage++;
        }
        // A caller that is refused at once must not starve the event loop.
        await nextTurn();
      }
    };
    const callers = Array.from({ length: CALLERS }, caller);
    const limit = setTimeout(stop, outageMs + MAX_RECOVERY_MS);
    await stopped;
    clearTimeout(limit);
    controller.abort();
    await Promise.all(callers);
    const during = upstream.arrivals.filter((at) => at < upstream.recoverAt).length;
    return {
      outageMs: round(outageMs),
      requestsDuringOutage: during,
      requestsPerSecond: during / (outageMs / 1000),
      // Each caller's first request was in flight before anything could know of the outage.
      requestsAfterFirstFailures: Math.max(0, during - CALLERS),
      requestsAfterFirstFailuresPerSecond: Math.max(0, during - CALLERS) / (outageMs / 1000),
      firstSuccessMs: firstSuccessAt === undefined ? null : firstSuccessAt - upstream.recoverAt,
      calls: counts.calls,
      failedDuringOutage: counts.failedDuringOutage,
    };
  } finally {
    controller.abort();
    await subject.close?.();
    await upstream.close();
  }
}

function summarize(name, runs) {
  const pick = (key) => runs.map((run) => run[key]);
  const firstSuccess = pick('firstSuccessMs');
  const missed = firstSuccess.some((ms) => ms === null);
  return {
    client: name,
    runs,
    requestsDuringOutage: median(pick('requestsDuringOutage')),
    requestsPerSecond: median(pick('requestsPerSecond')),
    requestsAfterFirstFailuresPerSecond: median(pick('requestsAfterFirstFailuresPerSecond')),
    // A run that never succeeded within MAX_RECOVERY_MS counts as that long.
    firstSuccessMs: missed ? null : median(firstSuccess),
    firstSuccessMsWorst: missed ? null : Math.max(...firstSuccess),
  };
}

const seconds = (ms) => (ms === null ? `> ${MAX_RECOVERY_MS / 1000} s` : `${(ms / 1000).toFixed(2)} s`);

export const recovery = {
  name: 'recovery',
  title: 'recovery: requests sent during a 20 s outage, and time from the recovery to the first success',
  async run() {
    const outageSeconds = positiveEnv('RECOVERY_OUTAGE_SECONDS', 20);
    const rounds = Math.floor(positiveEnv('RECOVERY_ROUNDS', 3));
    const candidates = await loadSubjects();
    console.log(
      `\n== recovery: ${CALLERS} closed-loop callers, an upstream failing every request with a 500 for ${outageSeconds} s then ` +
        `recovering (loopback, real timers); ${rounds} rounds of ${candidates.map((s) => s.name).join(', ')}, alternating`,
    );
    const byName = Object.fromEntries(candidates.map((s) => [s.name, []]));
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? candidates : [...candidates].reverse();
      for (const subject of order) {
        const run = await runOne(subject, outageSeconds * 1000);
        byName[subject.name].push(run);
        console.log(
          `   round ${r + 1}, ${subject.name}: ${run.requestsDuringOutage} requests during the ${(run.outageMs / 1000).toFixed(2)} s outage, ` +
            `first success ${seconds(run.firstSuccessMs)} after it`,
        );
      }
    }
    const subjects = candidates.map((s) => ({ key: s.key, ...summarize(s.name, byName[s.name]) }));
    console.table(
      Object.fromEntries(
        subjects.map((s) => [
          s.client,
          {
            'requests during outage': s.requestsDuringOutage,
            'req/s': round(s.requestsPerSecond, 2),
            'req/s after first failures': round(s.requestsAfterFirstFailuresPerSecond, 2),
            'first success after recovery': seconds(s.firstSuccessMs),
          },
        ]),
      ),
    );
    const ours = subjects.find((s) => s.key === 'resilient') ?? { firstSuccessMs: null, requestsPerSecond: null, requestsAfterFirstFailuresPerSecond: null };
    const targets = [
      checkTarget('time from the recovery to the first success (median)', ours.firstSuccessMs, {
        atMost: TARGETS.firstSuccessMs,
        format: (v) => `${(v / 1000).toFixed(2)} s`,
      }),
      checkTarget(`requests a second during the outage, after each caller's first failure`, ours.requestsAfterFirstFailuresPerSecond, {
        atMost: TARGETS.requestsPerSecond,
        format: (v) => v.toFixed(2),
      }),
      checkTarget(`requests a second during the outage, all of them (${CALLERS} were in flight as it began)`, ours.requestsPerSecond, {
        atMost: TARGETS.requestsPerSecond,
        format: (v) => v.toFixed(2),
      }),
    ];
    return reportTargets('recovery', 'recovery targets (resilient()):', targets, {
      case: 'recovery',
      config: { callers: CALLERS, outageSeconds, recoverySpreadMs: RECOVERY_SPREAD_MS, rounds, maxRecoveryMs: MAX_RECOVERY_MS, request: PARAMS },
      notes: [
        'A loopback node:http upstream answers every request with a 500 (OpenAI error body) until the recovery, then a chat completion. Each subject runs against a fresh server, rounds alternate the order; medians over the rounds.',
        'The recovery comes at a moment drawn in [outageSeconds, outageSeconds + 1 s) for each run, so that a client retrying or probing on a schedule started by the outage is not always measured at the same point of it. Rates divide by each run\'s own outage.',
        "requestsAfterFirstFailures: the requests received during the outage minus one per caller (each caller's call in flight as the outage began; nothing could know of it yet).",
        'firstSuccessMs: from the recovery to the first call that resolved with a success, as the caller sees it.',
      ],
      subjects,
      described: describeSubjects(candidates),
    });
  },

  document(result) {
    const { config, subjects } = result;
    const colors = subjectColors(subjects.map((s) => s.key));
    const rows = subjects.map((s) => [
      s.client,
      s.requestsDuringOutage,
      s.requestsPerSecond.toFixed(2),
      s.requestsAfterFirstFailuresPerSecond.toFixed(2),
      seconds(s.firstSuccessMs),
      seconds(s.firstSuccessMsWorst),
    ]);
    return {
      markdown: [
        `${config.callers} closed-loop callers against a loopback upstream that answers every request with a 500 for ` +
          `${config.outageSeconds} s (up to 1 s more, drawn for each run: a client that probes or retries on a schedule started by ` +
          'the outage would otherwise always meet the recovery at the same point of it), then recovers; real timers, each subject ' +
          `against a fresh server, medians of ${config.rounds} rounds ` +
          '(subjects alternating). "After first failures" leaves out one request per caller: the call each had in flight when the ' +
          'outage began, which no client could have held back. The time to the first success is from the recovery to the first call ' +
          'that resolved with an answer.',
        '',
        ...(result.described ? [subjectsTable(result.described), ''] : []),
        markdownTable(
          ['client', 'requests during the outage', 'per second', 'per second after first failures', 'first success after recovery (median)', 'worst'],
          rows,
        ),
      ].join('\n'),
      charts: {
        'recovery-requests': barChart({
          title: `Recovery: upstream requests a second during a ${config.outageSeconds} s outage (log scale, lower is better)`,
          series: subjects.map((s) => s.client),
          groups: [{ label: 'requests / s', values: subjects.map((s) => s.requestsPerSecond) }],
          format: (v) => v.toFixed(2),
          log: true,
          colors,
        }),
        'recovery-time': barChart({
          title: 'Recovery: time from the recovery to the first success (s, lower is better)',
          series: subjects.map((s) => s.client),
          groups: [{ label: 'first success', values: subjects.map((s) => (s.firstSuccessMs ?? config.maxRecoveryMs) / 1000) }],
          format: (v) => `${v.toFixed(2)} s`,
          colors,
        }),
      },
    };
  },
};
