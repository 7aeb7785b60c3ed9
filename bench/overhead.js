// Case "overhead": what resilient() adds to every call, with an in-memory fetch (no network) and every
// default policy on, for a chat completion, a stream of 50 SSE frames and an embedding. The bare SDK and
// resilient() are measured side by side in alternating rounds (see alternate.js). A third, informative
// subject runs the pipeline with every policy off, to tell the policies' cost from the pipeline's; a fourth
// is a pool of three members (issue 24: `resilient([a, b, c], options)`, each member an in-memory fetch of
// its own), whose cost over the single client is the routing's. Then, for
// a chat call and a stream, each alternative (bench/subjects/: the Vercel AI SDK, LangChain.js, a cockatiel
// policy) against the bare SDK, in processes of its own (see overhead-versus.js).
import { resilient } from '../dist/index.js';
import { alternate } from './alternate.js';
import { isScript, runInFreshProcess } from './fresh-process.js';
import { clientOn } from './in-memory-fetch.js';
import { CHAT, KINDS, PROCESSES, ROUNDS, STREAM_FRAMES, verifyAnswer } from './overhead-kinds.js';
import { measureAlternatives, versusSection } from './overhead-versus.js';
import { barChart } from './svg-chart.js';
import { checkTarget, markdownTable, reportTargets, round } from './report.js';

// Every default policy (retry + budget, timeouts, circuit breaker, bulkhead), plus the rate limiter with
// limits so high that it never waits: it does its bookkeeping on every call. The cache is off by default.
const EVERY_DEFAULT_POLICY = { rateLimit: { requestsPerMinute: 1e9, tokensPerMinute: 1e12 } };
const POLICIES_OFF = { retry: false, timeout: false, circuitBreaker: false, bulkhead: false, rateLimit: false };
// Issue 22's targets: per kind, resilient() / the bare SDK (a stream's 50 chunks each pass the stream guard).
// Issue 24's: a pool of 3 adds at most 5 µs per call to the single client (the routing).
const TARGETS = { ratio: { 'chat completion': 1.1, 'stream, 50 SSE frames': 1.15, 'embedding (1 536 dims)': 1.1 }, routingUs: 5 };
const POOL_MEMBERS = ['east', 'west', 'north'];

/** A pool of three members, each a client of its own (own host and key) on the kind's in-memory fetch. */
const poolOn = (fetch, options) =>
  resilient(
    POOL_MEMBERS.map((name) => ({ client: clientOn(fetch, { apiKey: `sk-bench-${name}`, baseURL: `https://${name}.openai.test/v1` }), name })),
    options,
  );

async function measure(kind) {
  const clients = {
    bare: clientOn(kind.fetch),
    resilient: resilient(clientOn(kind.fetch), EVERY_DEFAULT_POLICY),
    policiesOff: resilient(clientOn(kind.fetch), POLICIES_OFF),
    pool: poolOn(kind.fetch, EVERY_DEFAULT_POLICY),
  };
  let limiterWaits = 0;
  clients.resilient.resilience.on('rateLimitWait', () => limiterWaits++);
  for (const [name, client] of Object.entries(clients)) await verifyAnswer(kind, name, client);
  // Informative too: the bare SDK given an abort signal, as resilient() gives one to the attempts of a call
  // made with a signal (or with a cockatiel policy, or hedged).
  const { signal } = new AbortController();
  const subjects = Object.fromEntries(Object.entries(clients).map(([name, client]) => [name, () => kind.call(client)]));
  subjects.bareWithSignal = () => kind.call(clients.bare, { signal });
  const timed = await alternate(subjects, { rounds: ROUNDS, calls: kind.calls, warmup: kind.calls * 2 });
  const bareUs = timed.bare.medianUs;
  const resilientUs = timed.resilient.medianUs;
  return {
    kind: kind.name,
    callsPerRound: kind.calls,
    bareUs,
    resilientUs,
    policiesOffUs: timed.policiesOff.medianUs,
    bareWithSignalUs: timed.bareWithSignal.medianUs,
    addedUs: resilientUs - bareUs,
    ratio: resilientUs / bareUs,
    pipelineAddedUs: timed.policiesOff.medianUs - bareUs,
    poolUs: timed.pool.medianUs,
    routingAddedUs: timed.pool.medianUs - resilientUs,
    limiterWaits,
    roundsUs: Object.fromEntries(Object.entries(timed).map(([name, t]) => [name, t.roundsUs.map((us) => round(us, 2))])),
  };
}

/** Every kind, measured in a fresh process (this file run as a script), as JSON on its stdout. */
async function measureInProcess() {
  return JSON.parse(await runInFreshProcess(import.meta.url, { capture: true }));
}

/** Per kind, the process whose added µs is the median (its columns stay one run's), with every process's added µs and ratio. */
function medianProcess(runs) {
  return KINDS.map((_, i) => {
    const measured = runs.map((kinds) => kinds[i]);
    const median = [...measured].sort((a, b) => a.addedUs - b.addedUs)[Math.floor(measured.length / 2)];
    // The routing's cost is a few µs in calls whose rounds vary by tens: its target reads the median of the processes.
    const routing = [...measured].map((k) => k.routingAddedUs).sort((a, b) => a - b)[Math.floor(measured.length / 2)];
    return {
      ...median,
      routingAddedUsMedian: routing,
      processes: measured.map((k) => ({ addedUs: round(k.addedUs, 2), ratio: round(k.ratio, 3), routingAddedUs: round(k.routingAddedUs, 2) })),
    };
  });
}

/** The pool-of-3 rows (issue 24's routing cost), when the results have them. */
function poolSection(result) {
  if (result.kinds.some((k) => k.poolUs === undefined)) return [];
  return [
    '**A pool of three.** The same options with three members (`resilient([east, west, north], options)`, each a client of its own ' +
      'on the same in-memory `fetch`), side by side with the single client in the same rounds: what is added is the routing ' +
      '(choosing a member by load and learned headroom, its circuit, limits and counters). The first columns are the process with ' +
      'the median added µs of the single client, as above; the target reads the median of the processes, since a single round of ' +
      'this case varies by tens of µs, more than the routing costs. Target: at most 5 µs per call.',
    '',
    markdownTable(
      ['call', 'resilient() µs', 'pool of 3 µs', 'routing added µs', 'routing added µs, median of the processes', 'routing added µs, each process'],
      result.kinds.map((k) => [
        k.kind, k.resilientUs.toFixed(1), k.poolUs.toFixed(1), k.routingAddedUs.toFixed(1), k.routingAddedUsMedian?.toFixed(1) ?? 'n/a',
        k.processes?.map((p) => p.routingAddedUs?.toFixed(1) ?? 'n/a').join(', ') ?? 'n/a',
      ]),
    ),
    '',
  ];
}

export const overhead = {
  name: 'overhead',
  title: 'overhead: per call, in-memory fetch, every default policy on',
  async run() {
    console.log(
      `\n== overhead: bare SDK vs resilient() (every default policy on; rate limiter at 1e9 RPM and 1e12 TPM ` +
        `so it never waits), in-memory fetch, ${ROUNDS} alternating rounds in each of ${PROCESSES} fresh processes`,
    );
    const runs = [];
    for (let i = 1; i <= PROCESSES; i++) {
      runs.push(await measureInProcess());
      console.log(`   process ${i}: added ${runs.at(-1).map((k) => `${k.addedUs.toFixed(1)} µs`).join(', ')}`);
    }
    const kinds = medianProcess(runs);
    console.table(
      Object.fromEntries(
        kinds.map((k) => [k.kind, {
          'bare µs/call': round(k.bareUs, 1),
          'resilient µs/call': round(k.resilientUs, 1),
          'added µs': round(k.addedUs, 1),
          ratio: round(k.ratio, 2),
          'policies off µs (info)': round(k.policiesOffUs, 1),
          'bare + signal µs (info)': round(k.bareWithSignalUs, 1),
          'pool of 3 µs': round(k.poolUs, 1),
          'routing added µs (median of processes)': round(k.routingAddedUsMedian, 1),
          'limiter waits': k.limiterWaits,
        }]),
      ),
    );
    const versus = await measureAlternatives();
    const targets = [
      ...kinds.map((k) => checkTarget(`${k.kind}: ratio resilient / bare`, k.ratio, { atMost: TARGETS.ratio[k.kind], format: (v) => v.toFixed(2) })),
      ...kinds.map((k) =>
        checkTarget(`${k.kind}: a pool of 3 - the single client (routing), median of the processes`, k.routingAddedUsMedian, { atMost: TARGETS.routingUs, format: (v) => `${v.toFixed(1)} µs` }),
      ),
    ];
    return reportTargets('overhead', 'overhead targets:', targets, {
      case: 'overhead',
      config: { rounds: ROUNDS, processes: PROCESSES, options: EVERY_DEFAULT_POLICY, policiesOff: POLICIES_OFF, request: CHAT, streamFrames: STREAM_FRAMES.length },
      notes: [
        'Median of the per-round mean µs per call; the subjects alternate within each round, in reversed order every other round.',
        `The case runs in ${PROCESSES} fresh processes; per kind, the numbers are those of the process with the median added µs (processes lists every one).`,
        'The in-memory fetch returns a prebuilt Response at once, with the 21 headers of a real OpenAI answer: what is measured is the SDK and the resilience layer.',
        'Every subject lets the event loop turn every 100 calls (alternate.js, YIELD_EVERY), as real I/O would: otherwise WeakRef targets made during one long job are kept.',
        'policiesOff is resilient() with retry, timeouts, circuit breaker, bulkhead and rate limiter all off (informative, no target).',
        'bareWithSignal is the bare SDK given an AbortSignal with each call (informative, no target).',
        'pool is resilient([a, b, c], same options): three members named east, west, north, each a client of its own (host, key) on the same in-memory fetch; routingAddedUs = pool - resilient, from the same process and rounds; routingAddedUsMedian, the median of the processes\' (the target\'s).',
        'versus: each alternative against the bare SDK in processes of its own (overhead-versus.js), for a chat call and a stream.',
      ],
      kinds,
      versus,
    });
  },

  document(result) {
    const rows = result.kinds.map((k) => [
      k.kind, k.bareUs.toFixed(1), k.resilientUs.toFixed(1), k.addedUs.toFixed(1), k.ratio.toFixed(2), k.policiesOffUs.toFixed(1),
      k.bareWithSignalUs === undefined ? 'n/a' : k.bareWithSignalUs.toFixed(1), k.limiterWaits,
      k.processes ? k.processes.map((p) => p.addedUs.toFixed(1)).join(', ') : 'n/a',
    ]);
    const processes = result.config.processes ?? 1;
    const versus = versusSection(result);
    return {
      markdown: [
        'Per-call cost with an in-memory `fetch` (a prebuilt `Response` with the 21 headers of a real OpenAI answer, no socket) ' +
          'and every default policy on ' +
          '(retry with its budget, timeouts, circuit breaker, bulkhead), plus the rate limiter with limits so high it never ' +
          `waits (\`rateLimit: { requestsPerMinute: 1e9, tokensPerMinute: 1e12 }\`). Median of ${result.config.rounds} alternating rounds; ` +
          (processes > 1
            ? `the case runs in ${processes} fresh processes (each settles into its own JIT state, which can favour one subject ` +
              'for a whole run) and each row is the process with the median added µs; '
            : '') +
          'every client lets the event loop turn every 100 calls, as real I/O would every call.',
        '',
        markdownTable(['call', 'bare SDK µs', 'resilient() µs', 'added µs', 'ratio', 'policies off µs (info)', 'bare SDK + signal µs (info)', 'limiter waits', 'added µs, each process (info)'], rows),
        '',
        '"Policies off" is `resilient()` with retry, timeouts, circuit breaker, bulkhead and rate limiter all `false`: the cost of the pipeline itself. ' +
          '"Bare SDK + signal" is the bare SDK given an abort `signal` with each call, as `resilient()` gives one to an ' +
          'attempt only when the caller passed one, a cockatiel policy is set, or the attempt is hedged.',
        '',
        ...poolSection(result),
        // From CPU profiles and by switching parts off one at a time in the built code (December 2026, openai 7.57,
        // Node 22, side by side in one process, medians of several fresh processes; see issue 22's report).
        'Where the added cost goes, from CPU profiles and by switching parts off one at a time in the built code ' +
          '(Node 22). A chat call or an embedding: the pipeline itself costs a few µs (the "policies off" column: a median of ' +
          '+11 µs over the bare SDK for a chat call in five runs of this case, +6 to +32): the attempt reads and parses the JSON body once, so that a broken body is ' +
          'retried, and the SDK\'s parsing step takes that parse instead of parsing the text again; a call without fallback ' +
          'targets builds no fallback machinery, and one that goes straight through sets no `timeout.total` timer. What is ' +
          'left is the bookkeeping of the policies on every call: the rate limiter reserving capacity and reading the four ' +
          '`x-ratelimit-*` headers it learns from, the circuit breaker and bulkhead admitting and settling the call, the retry ' +
          'budget, the attempt\'s timer and the body\'s silence watch (`timeout.idle`): with the pipeline, 26–36 µs added to a ' +
          'chat call and 10–47 µs to an embedding in those runs, which is what separates 1.10× from the measured ratio. No abort signal is made for a call that only time can abort (no ' +
          'caller signal, no cockatiel policy, no hedge): a signal would cost what the "bare SDK + signal" column shows, as ' +
          'openai 7 composes it with `AbortSignal.any`. Each attempt is sent with request options of the SDK\'s own shape: ' +
          'options of another shape make the SDK code that reads them polymorphic, about 5 µs per call in this side-by-side run.',
        '',
        'A stream: most of the added cost is the stream guard, about 3 µs per frame (the "policies off" column: a median of ' +
          '+161 µs over the bare SDK for 50 frames in the five runs; the policies\' share, every default policy less "policies ' +
          'off", moved between 0 and 170 µs from run to run). Measured by replacing parts of it in the built code, in one process beside the ' +
          'bare SDK: no guard at all (the upstream body handed over as it is), ×1.07 (median of 4 runs, 0.89–1.14); the upstream body ' +
          'relayed in a `Response` of ours but not guarded, ×1.08–1.22; the guard with its SSE scan switched off (no decoding, ' +
          'no event roles, no usage or error test), ×1.33–1.40, as slow as the whole guard (×1.37–1.55 in the same runs). The scan itself costs about 0.45 µs ' +
          'a frame (22 µs a stream, measured alone): the cost is the guarded body, the source that reads the upstream ahead of ' +
          'its caller (so that a stream nobody reads gives its slot, reservation and connection back) and answers the SDK\'s ' +
          'reads, and its reader; having the SDK read it through the `ReadableStream`\'s own queue instead is slower (×1.49–1.65). ' +
          'That is the price of what the guard protects: a stream that stalls (`timeout.idle`), ends without its terminal event, ' +
          'fails in-band or is never read. The cockatiel composition below streams at ×1.0 because it guards none of that. ' +
          'The headers of the answer are passed on, not copied (copying a real answer\'s 21 headers costs about 10 µs). Against ' +
          'a real API call of hundreds of milliseconds (a stream\'s frames arrive milliseconds apart) these costs are below 0.01%.',
        '',
        'Five runs of this case (December 2026, Node 22, load average 3.7–6.3 on 2 cores), each the median of its 3 processes: ' +
          'chat ×1.24, ×1.30, ×1.36, ×1.33, ×1.11; embedding ×1.26, ×1.10, ×1.05, ×1.07, ×1.12; stream ×1.40, ×1.47, ×1.18, ' +
          '×1.50, ×1.48 (medians ×1.30, ×1.10, ×1.47). Three earlier runs of the same code on the main branch before its ' +
          'rate limiter changes of issue 22 (load average 3.6–4.7) gave medians ×1.12, ×1.15 and ×1.34: comparing the two ' +
          'builds in one process showed no difference beyond the noise, which on this machine is larger than the targets\' margins. ' +
          'Proposed restatement of issue 22\'s targets, from these measurements: a chat call and an embedding at most 1.25× the ' +
          'bare SDK, a 50-frame stream at most 1.50× (the guarded body), each as the median of five runs of this case. The table of targets ' +
          'below checks the targets as the issue states them.',
        '',
        ...versus.markdown,
      ].join('\n'),
      charts: {
        overhead: barChart({
          title: 'Per-call cost, in-memory fetch (µs, lower is better)',
          series: ['bare SDK', 'resilient(), every default policy', 'resilient(), policies off'],
          groups: result.kinds.map((k) => ({ label: k.kind, values: [k.bareUs, k.resilientUs, k.policiesOffUs] })),
          format: (v) => `${v.toFixed(1)} µs`,
        }),
        ...versus.charts,
      },
    };
  },
};

if (isScript(import.meta.url)) {
  const kinds = [];
  for (const kind of KINDS) kinds.push(await measure(kind));
  process.stdout.write(JSON.stringify(kinds));
}
