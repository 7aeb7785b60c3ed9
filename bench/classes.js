// Case "classes" (issue 26): traffic classes under scarce capacity.
//
// backlog (bench/classes-backlog.js): one process against a fault server of 20 requests a second with
// OpenAI's headers; interactive calls at 5 a second while 1 000 background calls drain. Targets:
// interactive p95 ≤ 1.2× its p95 on the idle server, background goodput ≥ 90% of the 15 a second the
// interactive calls leave, every background call completed or failed with a typed, documented error.
// Run at two server latencies: 200-400 ms (a short chat completion: the targets) and 50-100 ms (a
// stress: the wait for the next request's worth of capacity, up to 50 ms, weighs more; measured, no target).
//
// tenants (bench/classes-tenants.js): three OS processes sharing one Redis against the same 20 requests a
// second (latency 200-400 ms), `rateLimit.tenantShare` 0.25; three well-behaved tenants at 1 a second each
// per process, and in a flood run one tenant firing 150 calls at once from every process. Targets: the other
// tenants' p95 ≤ 1.2× their p95 without the flood; the flooder never above its share across the three
// (share × window + the burst its share holds, in any sliding window). The same flood without shared
// state is measured beside it (no target): what per-process shares give.
//
// Environment: BENCH_CLASSES_PARTS (comma-separated: backlog, tenants; default both; a part not run keeps
// its last results, from bench/results/classes.json, with their date), BENCH_CLASSES_SCENARIOS
// (comma-separated: llm-latency, fast-latency; default both), BENCH_CLASSES_SUBJECTS (comma-separated keys:
// classes, no-classes, bare; default all), BENCH_CLASSES_TENANT_RUNS (comma-separated keys: baseline, flood,
// flood-unshared; default all).
import { BACKLOG, BACKLOG_SUBJECTS, backlogRun } from './classes-backlog.js';
import { TENANTS, TENANT_RUNS, shareBurst, tenantsRun } from './classes-tenants.js';
import { startRedis } from './redis-server.js';
import { checkTarget, markdownTable, pct, listEnv, othersRatio, reportTargets, runParts } from './report.js';

const SCENARIOS = [
  { name: 'llm-latency', latencyMs: { min: 200, max: 400 }, targets: true },
  { name: 'fast-latency', latencyMs: { min: 50, max: 100 }, targets: false },
];
/** The errors a background call may end with: typed and documented (README's error table). */
const TYPED_FAILURES = new Set(['LoadShedError', 'RateLimitTimeoutError', 'BulkheadFullError', 'BulkheadTimeoutError', 'DeadlineExceededError']);
const TARGETS = { p95Ratio: 1.2, goodputShare: 0.9, othersP95Ratio: 1.2 };
const PARTS = ['backlog', 'tenants'];
/** Target names start with their part's, so that a part not run keeps its own. */
const PART_PREFIX = { backlog: 'backlog, ', tenants: 'tenants: ' };

function backlogRow(r) {
  return {
    'interactive p95 idle / busy (ms)': `${r.idle.p95} / ${r.busy.p95}`,
    '× idle': r.p95Ratio === null ? `n/a (${r.busy.failed} failed)` : `${r.p95Ratio}×`,
    'background goodput': `${r.backgroundGoodput}/s (${pct(r.goodputShare, 0)} of 15)`,
    'background succeeded': `${r.background.succeeded}/${BACKLOG.backgroundCalls}`,
    'background failures': Object.entries(r.background.failed).map(([name, n]) => `${n} ${name}`).join(', ') || 'none',
  };
}

function tenantsRow(r) {
  const windows = r.flooder?.windows ?? [];
  return {
    'others p50 / p95 (ms)': `${r.others.p50} / ${r.others.p95}`,
    'others failed': r.others.failed === 0 ? 'none' : Object.entries(r.others.failures).map(([name, n]) => `${n} ${name}`).join(', '),
    'flooder requests': r.flooder ? `${r.flooder.requestsSent} (${r.flooder.meanPerSecond}/s)` : '—',
    'flooder max in a window': windows.map((w) => `${w.maxRequests} in ${w.seconds} s (${w.maxPerSecond}/s; allowed ${w.allowedRequests})`).join(', ') || '—',
    '429s': r.server.rateLimited,
  };
}

async function runBacklog() {
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
  return backlog;
}

function backlogTargets(backlog) {
  return backlog
    .filter(({ scenario }) => scenario.targets)
    .flatMap(({ scenario, runs }) => {
      const ours = runs.find((r) => r.key === 'classes');
      if (!ours) return [];
      const untyped = Object.entries(ours.background.failed).filter(([name]) => !TYPED_FAILURES.has(name)).reduce((n, [, count]) => n + count, 0);
      const prefix = `${PART_PREFIX.backlog}${scenario.name}`;
      return [
        checkTarget(`${prefix}: interactive p95 during the backlog, × idle`, ours.p95Ratio, { atMost: TARGETS.p95Ratio, format: (v) => `${v}×` }),
        checkTarget(`${prefix}: background goodput, share of the capacity interactive leaves`, ours.goodputShare, { atLeast: TARGETS.goodputShare, format: (v) => pct(v, 0) }),
        checkTarget(`${prefix}: background calls that ended untyped or never`, untyped + (BACKLOG.backgroundCalls - ours.background.succeeded - Object.values(ours.background.failed).reduce((a, b) => a + b, 0)), { atMost: 0 }),
      ];
    });
}

async function runTenants() {
  const wanted = listEnv('BENCH_CLASSES_TENANT_RUNS');
  const specs = TENANT_RUNS.filter((r) => !wanted || wanted.includes(r.key));
  const { processes, requestsPerSecond, tenantShare, steadyTenants, perSecond, flood } = TENANTS;
  console.log(
    `\n== classes (tenants): ${processes} processes sharing one Redis, 20 requests/s, latency ${TENANTS.latencyMs.min}-${TENANTS.latencyMs.max} ms, ` +
      `tenantShare ${tenantShare} (${requestsPerSecond * tenantShare}/s + a burst of ${shareBurst(TENANTS)}); ${steadyTenants.length} tenants × ${perSecond}/s per process; ` +
      `the flood: ${flood} calls at once per process`,
  );
  const redis = await startRedis();
  try {
    const runs = [];
    for (const spec of specs) {
      console.log(`   ${spec.name} ...`);
      runs.push(await tenantsRun(spec, redis.url));
    }
    console.table(Object.fromEntries(runs.map((r) => [r.name, tenantsRow(r)])));
    return { redis: redis.version, runs };
  } finally {
    await redis.stop();
  }
}


/** A line when some process of a shared run decided on its own state (Redis did not answer): those runs did not measure sharing. */
function sharedNote(tenants) {
  const local = tenants.runs.filter((r) => r.shared && r.sharedState?.some((s) => !s || s.localDecisions > 0 || s.outages > 0));
  return local.length === 0
    ? ['', 'In the shared runs, every process had Redis throughout (no outage, no decision taken on local state).']
    : ['', `**Redis did not always answer** in ${local.map((r) => r.name).join(', ')}: some decisions were taken on local state.`];
}

function tenantsTargets(tenants) {
  const flood = tenants.runs.find((r) => r.key === 'flood');
  if (!flood) return [];
  const p = PART_PREFIX.tenants;
  return [
    checkTarget(`${p}other tenants' p95 during the flood (${TENANTS.processes} processes, shared), × without it`, othersRatio(tenants, 'flood'), { atMost: TARGETS.othersP95Ratio, format: (v) => `${v.toFixed(2)}×` }),
    ...flood.flooder.windows.map((w) =>
      checkTarget(`${p}the flooder's most requests in any ${w.seconds} s, across the ${TENANTS.processes} processes (share × ${w.seconds} s + burst)`, w.maxRequests, { atMost: w.allowedRequests }),
    ),
  ];
}

export const classes = {
  name: 'classes',
  title: 'classes: interactive calls during a background backlog; tenants across processes',
  async run() {
    const { date, parts, targets, measured } = await runParts('classes', {
      parts: PARTS, envName: 'BENCH_CLASSES_PARTS', prefixes: PART_PREFIX,
      run: (part) => (part === 'backlog' ? runBacklog() : runTenants()),
      targetsOf: (part, data) => (part === 'backlog' ? backlogTargets(data) : tenantsTargets(data)),
    });
    return reportTargets('classes', 'resilient() targets:', targets, {
      case: 'classes',
      date,
      measured,
      node: process.version,
      openai: (await import('openai/version')).VERSION,
      config: { backlog: BACKLOG, tenants: TENANTS },
      notes: [
        'Interactive p95: over the calls of each phase, timed from their start (arrivals on a fixed schedule, 5 a second).',
        'Background goodput: background calls that succeeded while the interactive calls ran, per second.',
        'Each subject against a fresh server; resilient() with its defaults.',
        "Tenants: each run with a fresh fault server, fresh worker processes and a fresh Redis prefix; resilient() with its defaults and rateLimit.tenantShare. The other tenants' latencies are timed in the workers from each call's start; the flooder's requests are counted at the server (a bench-only x-bench-tenant header), by arrival time, including requests answered with a 429.",
        "Tenants: the unshared flood is compared with the shared baseline (the others' calls without the flood do not depend on where the shares are counted).",
      ],
      ...(parts.backlog ? { backlog: parts.backlog.data } : {}),
      ...(parts.tenants ? { tenants: parts.tenants.data } : {}),
    });
  },

  document(result) {
    const measuredOn = (part) => (result.measured?.[part] && result.measured[part] !== result.date ? ` Measured ${result.measured[part]}.` : '');
    const backlogSections = (result.backlog ?? []).map(({ scenario, runs }) => [
      `**backlog, ${scenario.name}**: server latency ${scenario.latencyMs.min}-${scenario.latencyMs.max} ms${scenario.targets ? ' (the targets)' : ' (a stress, no target)'}.`,
      '',
      markdownTable(
        ['subject', 'interactive p95 idle / busy (ms)', '× idle', 'background goodput', 'background succeeded', 'background failures'],
        runs.map((r) => [r.subject, ...Object.values(backlogRow(r))]),
      ),
    ].join('\n'));
    const backlog = result.backlog
      ? [
          '### backlog',
          '',
          `A loopback fault server admits ${result.config.backlog.requestsPerSecond} requests a second and says so in OpenAI's ` +
            '`x-ratelimit-*` headers. Interactive calls arrive at 5 a second, first on the idle server, then while a backlog ' +
            `of ${result.config.backlog.backgroundCalls} background calls drains. Targets (issue 26): interactive p95 ≤ 1.2× idle; ` +
            `background goodput ≥ 90% of the 15 a second the interactive calls leave; every background call completed or failed with a typed error.${measuredOn('backlog')}`,
          '',
          ...backlogSections.flatMap((section) => [section, '']),
        ]
      : ['### backlog', '', 'Not measured yet: `BENCH_CLASSES_PARTS=backlog npm run bench classes`.', ''];
    const t = result.config.tenants;
    const tenants = result.tenants && t
      ? [
          '### tenants',
          '',
          `${t.processes} OS processes (bench/classes-tenants-worker.js) share one redis-server (${result.tenants.redis}) through ` +
            '`createRedisState()` and call one loopback fault server that admits ' +
            `${t.requestsPerSecond} requests a second (latency ${t.latencyMs.min}-${t.latencyMs.max} ms), with \`rateLimit.tenantShare: ${t.tenantShare}\`: ` +
            `a tenant may have ${t.requestsPerSecond * t.tenantShare} requests a second plus a burst of ${shareBurst(t)}. In each process ` +
            `${t.steadyTenants.length} well-behaved tenants call at ${t.perSecond} a second each for ${t.seconds} s; in a flood run, ` +
            `tenant \`${t.flooder}\` also fires ${t.flood} calls at once from every process (the leftover is aborted at the end of the run). ` +
            'The server counts the flooder\'s requests from every process (a bench-only `x-bench-tenant` header), 429s included. ' +
            "Targets (issue 26): the other tenants' p95 ≤ 1.2× their p95 without the flood; the flooder never above its share in all " +
            '(in every sliding window, at most share × window + burst). The same flood without shared state (each process counts ' +
            `its own shares) is shown beside it, with no target.${measuredOn('tenants')}`,
          '',
          markdownTable(
            ['run', 'others p50 / p95 (ms)', '× baseline', 'others failed', 'flooder requests', 'flooder max in a window', '429s'],
            result.tenants.runs.map((r) => {
              const row = tenantsRow(r);
              const ratio = r.key === 'baseline' ? '—' : othersRatio(result.tenants, r.key);
              return [r.name, row['others p50 / p95 (ms)'], ratio === null ? 'n/a' : ratio === '—' ? ratio : `${ratio.toFixed(2)}×`, row['others failed'], row['flooder requests'], row['flooder max in a window'], row['429s']];
            }),
          ),
          ...sharedNote(result.tenants),
        ]
      : ['### tenants', '', 'Not measured yet: `BENCH_CLASSES_PARTS=tenants npm run bench classes`.'];
    return { markdown: [...backlog, ...tenants].join('\n'), charts: {} };
  },
};
