// Case "classes" (issue 26): traffic classes under scarce capacity.
//
// backlog (bench/classes-backlog.js): one process against a fault server of 20 requests a second with
// OpenAI's headers; interactive calls at 5 a second while 1 000 background calls drain. Targets:
// interactive p95 ≤ 1.2× its p95 on the idle server, background goodput ≥ 90% of the 15 a second the
// interactive calls leave, every background call completed or failed with a typed, documented error.
// Run at two server latencies: 200-400 ms (a short chat completion: the targets) and 50-100 ms (a
// stress: the wait for the next request's worth of capacity, up to 50 ms, weighs more; measured, no target).
//
// Environment: BENCH_CLASSES_SCENARIOS (comma-separated: llm-latency, fast-latency; default both),
// BENCH_CLASSES_SUBJECTS (comma-separated keys: classes, no-classes, bare; default all).
import { BACKLOG, BACKLOG_SUBJECTS, backlogRun } from './classes-backlog.js';
import { checkTarget, markdownTable, pct, reportTargets } from './report.js';

const SCENARIOS = [
  { name: 'llm-latency', latencyMs: { min: 200, max: 400 }, targets: true },
  { name: 'fast-latency', latencyMs: { min: 50, max: 100 }, targets: false },
];
/** The errors a background call may end with: typed and documented (README's error table). */
const TYPED_FAILURES = new Set(['LoadShedError', 'RateLimitTimeoutError', 'BulkheadFullError', 'BulkheadTimeoutError', 'DeadlineExceededError']);
const TARGETS = { p95Ratio: 1.2, goodputShare: 0.9 };

function listEnv(name) {
  return process.env[name]?.split(',').map((entry) => entry.trim()).filter(Boolean);
}

function backlogRow(r) {
  return {
    'interactive p95 idle / busy (ms)': `${r.idle.p95} / ${r.busy.p95}`,
    '× idle': r.p95Ratio === null ? `n/a (${r.busy.failed} failed)` : `${r.p95Ratio}×`,
    'background goodput': `${r.backgroundGoodput}/s (${pct(r.goodputShare, 0)} of 15)`,
    'background succeeded': `${r.background.succeeded}/${BACKLOG.backgroundCalls}`,
    'background failures': Object.entries(r.background.failed).map(([name, n]) => `${n} ${name}`).join(', ') || 'none',
  };
}

export const classes = {
  name: 'classes',
  title: 'classes: interactive calls during a background backlog',
  async run() {
    const wantedScenarios = listEnv('BENCH_CLASSES_SCENARIOS');
    const wantedSubjects = listEnv('BENCH_CLASSES_SUBJECTS');
    const scenarios = SCENARIOS.filter((s) => !wantedScenarios || wantedScenarios.includes(s.name));
    const subjects = BACKLOG_SUBJECTS.filter((s) => !wantedSubjects || wantedSubjects.includes(s.key));
    const backlog = [];
    for (const scenario of scenarios) {
      console.log(`\n== classes (backlog, ${scenario.name}): server latency ${scenario.latencyMs.min}-${scenario.latencyMs.max} ms, 20 requests/s; interactive 5/s while ${BACKLOG.backgroundCalls} background calls drain`);
      const runs = [];
      for (const subject of subjects) {
        console.log(`   ${subject.name} ...`);
        runs.push(await backlogRun(subject, scenario.latencyMs));
      }
      console.table(Object.fromEntries(runs.map((r) => [r.subject, backlogRow(r)])));
      backlog.push({ scenario, runs });
    }

    const targets = backlog
      .filter(({ scenario }) => scenario.targets)
      .flatMap(({ scenario, runs }) => {
        const ours = runs.find((r) => r.key === 'classes');
        if (!ours) return [];
        const untyped = Object.entries(ours.background.failed).filter(([name]) => !TYPED_FAILURES.has(name)).reduce((n, [, count]) => n + count, 0);
        return [
          checkTarget(`${scenario.name}: interactive p95 during the backlog, × idle`, ours.p95Ratio, { atMost: TARGETS.p95Ratio, format: (v) => `${v}×` }),
          checkTarget(`${scenario.name}: background goodput, share of the capacity interactive leaves`, ours.goodputShare, { atLeast: TARGETS.goodputShare, format: (v) => pct(v, 0) }),
          checkTarget(`${scenario.name}: background calls that ended untyped or never`, untyped + (BACKLOG.backgroundCalls - ours.background.succeeded - Object.values(ours.background.failed).reduce((a, b) => a + b, 0)), { atMost: 0 }),
        ];
      });
    return reportTargets('classes', 'resilient() targets:', targets, {
      case: 'classes',
      date: new Date().toISOString(),
      node: process.version,
      openai: (await import('openai/version')).VERSION,
      config: { backlog: BACKLOG },
      notes: [
        'Interactive p95: over the calls of each phase, timed from their start (arrivals on a fixed schedule, 5 a second).',
        'Background goodput: background calls that succeeded while the interactive calls ran, per second.',
        'Each subject against a fresh server; resilient() with its defaults.',
      ],
      backlog,
    });
  },

  document(result) {
    const sections = result.backlog.map(({ scenario, runs }) => [
      `**backlog, ${scenario.name}**: server latency ${scenario.latencyMs.min}-${scenario.latencyMs.max} ms${scenario.targets ? ' (the targets)' : ' (a stress, no target)'}.`,
      '',
      markdownTable(
        ['subject', 'interactive p95 idle / busy (ms)', '× idle', 'background goodput', 'background succeeded', 'background failures'],
        runs.map((r) => [r.subject, ...Object.values(backlogRow(r))]),
      ),
    ].join('\n'));
    return {
      markdown: [
        `A loopback fault server admits ${result.config.backlog.requestsPerSecond} requests a second and says so in OpenAI's ` +
          '`x-ratelimit-*` headers. Interactive calls arrive at 5 a second, first on the idle server, then while a backlog ' +
          `of ${result.config.backlog.backgroundCalls} background calls drains. Targets (issue 26): interactive p95 ≤ 1.2× idle; ` +
          'background goodput ≥ 90% of the 15 a second the interactive calls leave; every background call completed or failed with a typed error.',
        '',
        ...sections.flatMap((section) => [section, '']),
      ].join('\n'),
      charts: {},
    };
  },
};
