// The overhead case's comparison with what users would pick instead of this library: each alternative of
// bench/subjects/ (the Vercel AI SDK, LangChain.js, a cockatiel policy; BENCH_SUBJECTS selects) against the
// bare SDK on the same in-memory fetch, in alternating rounds, for a chat call and a stream. Each alternative
// runs in fresh processes of its own, the bare SDK beside it, so that the processes timing resilient() stay as
// they were, and no library's garbage or code shapes fall into another's rounds.
import { alternate } from './alternate.js';
import { isScript, runInFreshProcess } from './fresh-process.js';
import { clientOn } from './in-memory-fetch.js';
import { KINDS, PROCESSES, ROUNDS, verifyAnswer } from './overhead-kinds.js';
import { markdownTable, median, round } from './report.js';
import { describeSubjects, subjectColors, subjectsTable } from './subjects/describe.js';
import { loadSubjects, selectedSubjectKeys } from './subjects/index.js';
import { barChart } from './svg-chart.js';

const COMPARED = KINDS.filter((k) => k.alternatives);

/** The alternatives selected: BENCH_SUBJECTS's keys less the bare SDK and resilient(), which the case always has. */
const alternativeKeys = () => selectedSubjectKeys().filter((key) => key !== 'bare' && key !== 'resilient');

/** In a measuring process: the subject `key` against the bare SDK, every compared kind. */
async function measureAgainstBare(key) {
  const [subject] = await loadSubjects([key], { install: false });
  const kinds = [];
  for (const kind of COMPARED) {
    const clients = { bare: clientOn(kind.fetch), subject: subject.makeClient({ fetch: kind.fetch }) };
    await verifyAnswer(kind, 'bare SDK', clients.bare);
    await verifyAnswer(kind, subject.name, clients.subject);
    const timed = await alternate(
      { bare: () => kind.call(clients.bare), subject: () => kind.call(clients.subject) },
      { rounds: ROUNDS, calls: kind.calls, warmup: kind.calls * 2 },
    );
    kinds.push({ kind: kind.name, bareUs: timed.bare.medianUs, us: timed.subject.medianUs, ratio: timed.subject.medianUs / timed.bare.medianUs });
  }
  return kinds;
}

/**
 * Installs and times every selected alternative: PROCESSES fresh processes each, the subjects taking turns so
 * that the machine's drift falls on all alike; per kind, the medians over its processes.
 * @returns {Promise<{ subjects: object[], results: { key: string, name: string, kinds: object[] }[] }>}
 */
export async function measureAlternatives() {
  const selected = await loadSubjects(alternativeKeys());
  // A gateway reached over HTTP (Portkey's) has no in-memory path: its cost would be a socket's, not a library's.
  const subjects = selected.filter((s) => s.inMemoryFetch !== false);
  const notMeasured = selected.filter((s) => s.inMemoryFetch === false).map((s) => s.name);
  if (subjects.length === 0) return { subjects: [], results: [], notMeasured };
  console.log(`\n   the alternatives, each against the bare SDK in ${PROCESSES} fresh processes of its own: ${subjects.map((s) => s.name).join(', ')}`);
  const runs = Object.fromEntries(subjects.map((s) => [s.key, []]));
  for (let i = 1; i <= PROCESSES; i++) {
    for (const subject of subjects) {
      runs[subject.key].push(JSON.parse(await runInFreshProcess(import.meta.url, { capture: true, args: [subject.key] })));
      console.log(`   process ${i}, ${subject.name}: ${runs[subject.key].at(-1).map((k) => `×${k.ratio.toFixed(2)}`).join(', ')}`);
    }
  }
  const results = subjects.map((subject) => ({
    key: subject.key,
    name: subject.name,
    kinds: COMPARED.map((kind, i) => {
      const each = runs[subject.key].map((kinds) => kinds[i]);
      return {
        kind: kind.name,
        bareUs: median(each.map((k) => k.bareUs)),
        us: median(each.map((k) => k.us)),
        ratio: median(each.map((k) => k.ratio)),
        processes: each.map((k) => round(k.ratio, 3)),
      };
    }),
  }));
  console.table(Object.fromEntries(results.map((r) => [r.name, Object.fromEntries(r.kinds.map((k) => [k.kind, `${round(k.us, 1)} µs, ×${k.ratio.toFixed(2)}`]))])));
  return { subjects: describeSubjects(subjects), results, notMeasured };
}

/** The section's comparison (Markdown lines and a chart), or nothing when no alternative ran. */
export function versusSection(result) {
  const versus = result.versus;
  if (!versus || versus.results.length === 0) return { markdown: [], charts: {} };
  const ours = Object.fromEntries(result.kinds.map((k) => [k.kind, k]));
  const cell = (us, ratio) => `${us.toFixed(1)} µs, ×${ratio.toFixed(2)}`;
  const rows = [
    ...versus.results.map((r) => [r.name, ...r.kinds.map((k) => cell(k.us, k.ratio)), r.kinds.map((k) => k.processes.map((p) => p.toFixed(2)).join(', ')).join(' / ')]),
    ['resilient(), every default policy', ...COMPARED.map((kind) => cell(ours[kind.name].resilientUs, ours[kind.name].ratio)), COMPARED.map((kind) => ours[kind.name].processes.map((p) => p.ratio.toFixed(2)).join(', ')).join(' / ')],
  ];
  return {
    markdown: [
      "**Against the alternatives.** The same calls through what users would pick instead, on the same in-memory `fetch`, " +
        'each against the bare SDK in alternating rounds, in fresh processes of its own (so that no library\'s garbage ' +
        "or code shapes fall into another's rounds). Each cell is µs per call and the ratio to the bare SDK of the same " +
        'rounds, medians over the processes; the `resilient()` row is the table above. The ratios are what compare: ' +
        'absolute µs move with the load of the machine from one process to the next.',
      '',
      subjectsTable(versus.subjects),
      '',
      markdownTable(['subject', ...COMPARED.map((k) => k.name), '× bare, each process (info)'], rows),
      '',
      ...(versus.notMeasured?.length
        ? [`Not measured here: ${versus.notMeasured.join(', ')} (a gateway in a process of its own, reached over HTTP: no in-memory path to time).`, '']
        : []),
      "The AI SDK and LangChain.js do more than hand the SDK's answer on: they convert the request and the answer to their " +
        'own message types, the AI SDK validates each answer and each stream chunk against its schema (zod) and turns chunks ' +
        'into its own stream parts, and LangChain.js calls the openai SDK underneath (its own retries off). The cockatiel ' +
        'policy passes its abort signal to every attempt, which the SDK composes with `AbortSignal.any`. The AI SDK\'s stream ' +
        'is read from `fullStream`, whose `error` part is thrown: its `textStream` ends quietly when the stream fails (the ' +
        'error only reaches `onError`, which logs it), so a failed stream would pass for a short answer.',
    ],
    charts: {
      'overhead-versus': barChart({
        title: 'Per-call cost as a multiple of the bare SDK, in-memory fetch (lower is better)',
        series: [...versus.results.map((r) => r.name), 'resilient()'],
        colors: subjectColors([...versus.results.map((r) => r.key), 'resilient']),
        groups: COMPARED.map((kind, i) => ({ label: kind.name, values: [...versus.results.map((r) => r.kinds[i].ratio), ours[kind.name].ratio] })),
        format: (v) => `×${v.toFixed(2)}`,
      }),
    },
  };
}

if (isScript(import.meta.url)) process.stdout.write(JSON.stringify(await measureAgainstBare(process.argv[2])));
