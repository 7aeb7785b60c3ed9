// Case "budgets" (issue 27): token budgets and exact token counting.
//
// tenants (bench/budgets-tenants.js): three OS processes sharing one Redis, each with a per-tenant budget of
// 10 000 tokens per window, against a loopback fault server (chat JSON and streams, with `usage`); one tenant
// floods from all three while three others call at 1 a second each per process. Targets: the flooder never
// above 10 000 tokens plus one call's reservation in any sliding window (measured at the server, from the
// usage it reports); the other tenants unaffected (every call succeeds, p95 ≤ 1.2× without the flood). The
// same flood without shared state (per-process budgets) is measured beside it, with no target.
//
// counting (bench/budgets-counting.js, `countingRun()`): the cost of exact counting for a 1 KB, 100 KB and
// 1 MB chat prompt. Target: ≤ 0.2 ms per call for 1 KB.
//
// Environment: BENCH_BUDGETS_PARTS (comma-separated: counting, tenants; default both; a part not run keeps its
// last results, from bench/results/budgets.json, with their date), BENCH_BUDGETS_TENANT_RUNS (comma-separated
// keys: baseline, flood, flood-unshared, minute; default all).
import { BUDGET_RUNS, BUDGET_TENANTS, PARAMS, budgetRun } from './budgets-tenants.js';
import { startRedis } from './redis-server.js';
import { checkTarget, markdownTable, pct, listEnv, othersRatio, reportTargets, runParts } from './report.js';

const TARGETS = { othersP95Ratio: 1.2, perCallMs1KB: 0.2 };
const PARTS = ['counting', 'tenants'];
/** Target names start with their part's, so that a part not run keeps its own. */
const PART_PREFIX = { counting: 'counting: ', tenants: 'tenants: ' };

/** A target whose part could not run: shown as 'not run', never as a pass. */
const notRunTarget = (name, why) => ({ name, target: 'run', value: null, shown: `not run (${why})`, pass: false });

async function runCounting() {
  let countingRun;
  try {
    ({ countingRun } = await import('./budgets-counting.js'));
  } catch (error) {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('budgets-counting.js')) throw error;
    console.log('\n   budgets (counting): not run (bench/budgets-counting.js is not there yet)');
    return { notRun: 'bench/budgets-counting.js is not there yet' };
  }
  console.log('\n== budgets (counting): exact token counting of a 1 KB, 100 KB and 1 MB chat prompt');
  const { rows, perCallMs1KB } = await countingRun();
  console.table(rows);
  return { rows, perCallMs1KB };
}

function countingTargets(counting) {
  return [
    counting.notRun ? notRunTarget(`${PART_PREFIX.counting}exact counting per call, 1 KB chat prompt (ms)`, counting.notRun) : checkTarget(`${PART_PREFIX.counting}exact counting per call, 1 KB chat prompt (ms)`, counting.perCallMs1KB, {
      atMost: TARGETS.perCallMs1KB,
      format: (v) => `${v} ms`,
    }),
  ];
}

function tenantsRow(r) {
  const f = r.flooder;
  return {
    window: `${r.window / 1000} s`,
    'others succeeded': `${r.others.succeeded}/${r.others.calls}`,
    'others p50 / p95 (ms)': `${r.others.p50} / ${r.others.p95}`,
    'flooder requests / tokens': f ? `${f.requests} / ${f.tokens}` : '—',
    'flooder most tokens in a window': f ? `${f.maxTokensInWindow} (allowed ${f.allowedTokens})` : '—',
    'by sending time': f?.maxTokensInWindowBySending !== undefined ? `${f.maxTokensInWindowBySending} (stamped ${f.stampDelayMs.p50} / ${f.stampDelayMs.max} ms later, p50 / max)` : '—',
    'flooder calls refused': f ? Object.entries(f.calls.failed).map(([name, n]) => `${n} ${name}`).join(', ') || 'none' : '—',
  };
}

async function runTenants() {
  const wanted = listEnv('BENCH_BUDGETS_TENANT_RUNS');
  const specs = BUDGET_RUNS.filter((r) => !wanted || wanted.includes(r.key));
  const t = BUDGET_TENANTS;
  console.log(
    `\n== budgets (tenants): ${t.processes} processes sharing one Redis, a budget of ${t.tokens} tokens per tenant and window; ` +
      `${t.steadyTenants.length} tenants × ${t.perSecond}/s per process; the flooder: ${t.floodLoops} loops per process, back to back`,
  );
  const redis = await startRedis();
  try {
    const runs = [];
    for (const spec of specs) {
      console.log(`   ${spec.name} (${spec.seconds} s) ...`);
      try {
        runs.push(await budgetRun(spec, redis.url));
      } catch (error) {
        // A build without budgets refuses the option: the part reports 'not run' rather than failing the bench.
        if (!String(error?.message).includes('unknown option `budgets`')) throw error;
        console.log('   budgets (tenants): not run (this build has no `budgets` option)');
        return { notRun: 'this build has no `budgets` option', runs: [] };
      }
    }
    console.table(Object.fromEntries(runs.map((r) => [r.name, tenantsRow(r)])));
    return { redis: redis.version, runs };
  } finally {
    await redis.stop();
  }
}


function tenantsTargets(tenants) {
  const p = PART_PREFIX.tenants;
  if (tenants.notRun) return [notRunTarget(`${p}the flooder's most tokens in any window`, tenants.notRun)];
  const shared = tenants.runs.filter((r) => r.shared && r.flood);
  const flood = tenants.runs.find((r) => r.key === 'flood');
  return [
    ...shared.map((r) =>
      checkTarget(`${p}the flooder's most tokens in any ${r.window / 1000} s window, across the ${BUDGET_TENANTS.processes} processes (limit + one call's reservation)`, r.flooder.maxTokensInWindow, {
        atMost: r.flooder.allowedTokens,
      }),
    ),
    ...(flood
      ? [
          checkTarget(`${p}other tenants' calls that succeeded during the flood`, flood.others.successRate, { atLeast: 1, format: (v) => pct(v, 1) }),
          checkTarget(`${p}other tenants' p95 during the flood, × without it`, othersRatio(tenants, 'flood'), { atMost: TARGETS.othersP95Ratio, format: (v) => `${v.toFixed(2)}×` }),
        ]
      : []),
  ];
}

/** A line when some process of a shared run decided on its own state (Redis did not answer): those runs did not measure sharing. */
function sharedNote(tenants) {
  const local = tenants.runs.filter((r) => r.shared && r.sharedState?.some((s) => !s || s.localDecisions > 0 || s.outages > 0));
  return local.length === 0
    ? 'In the shared runs, every process had Redis throughout (no outage, no decision taken on local state).'
    : `**Redis did not always answer** in ${local.map((r) => r.name).join(', ')}: some decisions were taken on local state.`;
}

export const budgets = {
  name: 'budgets',
  title: 'budgets: a tenant\'s token budget across processes sharing Redis; exact counting',
  async run() {
    const { date, parts, targets, measured } = await runParts('budgets', {
      parts: PARTS, envName: 'BENCH_BUDGETS_PARTS', prefixes: PART_PREFIX,
      run: (part) => (part === 'counting' ? runCounting() : runTenants()),
      targetsOf: (part, data) => (part === 'counting' ? countingTargets(data) : tenantsTargets(data)),
    });
    return reportTargets('budgets', 'resilient() targets:', targets, {
      case: 'budgets',
      date,
      measured,
      node: process.version,
      openai: (await import('openai/version')).VERSION,
      config: { tenants: BUDGET_TENANTS, runs: BUDGET_RUNS, params: PARAMS },
      notes: [
        'Tenants: each run with a fresh fault server, fresh worker processes and a fresh Redis prefix; resilient() with maxRetries 0 and budgets: { limits: [{ per: "tenant", tokens: 10000, window, tenants: { <each well-behaved tenant>: 1000000 } }] } (and shared: createRedisState(redis, { timeout: 2000 }) in the shared runs: with the default 250 ms, the flooding processes\' busy event loops turned a few slow answers into local decisions).',
        "Tenants: the flooder's tokens are counted at the server, by arrival time, with the usage the fault server reports for each request (prompt: the messages' JSON / 4; output: 1 token for JSON, 3 for a stream).",
        "Tenants: one call's reservation is its prompt (as the server counts it) plus its max_tokens.",
        'Tenants: the flooder\'s windows are also measured by when each request left its process (a bench-only x-bench-sent-at header): the target is on arrival at the server.',
      ],
      ...(parts.counting ? { counting: parts.counting.data } : {}),
      ...(parts.tenants ? { tenants: parts.tenants.data } : {}),
    });
  },

  document(result) {
    const measuredOn = (part) => (result.measured?.[part] && result.measured[part] !== result.date ? ` Measured ${result.measured[part]}.` : '');
    const t = result.config.tenants;
    const tenants = result.tenants && !result.tenants.notRun
      ? [
          '### tenants',
          '',
          `${t.processes} OS processes (bench/budgets-tenants-worker.js) share one redis-server (${result.tenants.redis}) through ` +
            '`createRedisState()`, each with `budgets: { limits: [{ per: \'tenant\', tokens: ' + t.tokens + ', window }] }`, and call one loopback ' +
            `fault server (latency ${t.latencyMs.min}-${t.latencyMs.max} ms) that reports \`usage\`; half the calls are chat JSON, half streams. ` +
            `In each process ${t.steadyTenants.length} well-behaved tenants (whose own budgets are 100 times larger: never reached) call at ${t.perSecond} a second each; in a flood run, tenant \`${t.flooder}\` ` +
            `also calls back to back from ${t.floodLoops} loops in every process (a refused call waits ${t.pauseMs} ms). The server counts the flooder's ` +
            'tokens from every process (a bench-only `x-bench-tenant` header), by arrival time, with the usage it reports, and also by when each ' +
            'request left its process. Each worker first warms up (4 calls of a tenant of its own, not counted): a call counts in its budget from its ' +
            'reservation, and the first calls of a cold process take longest to leave it. The short runs use a 10 s ' +
            'window with the same 10 000 tokens (as tight as a minute, six times as often); the `minute` run a real minute. Targets (issue 27): ' +
            "never more than the limit plus one call's reservation in any window; the other tenants unaffected. The same flood without shared state " +
            `(each process keeps its own budget) is shown beside it, with no target.${measuredOn('tenants')}`,
          '',
          markdownTable(
            ['run', 'window', 'others succeeded', 'others p50 / p95 (ms)', '× baseline', 'flooder requests / tokens', 'flooder most tokens in a window', 'by sending time', 'flooder calls refused'],
            result.tenants.runs.map((r) => {
              const row = tenantsRow(r);
              const ratio = r.key === 'baseline' ? '—' : othersRatio(result.tenants, r.key);
              return [r.name, row.window, row['others succeeded'], row['others p50 / p95 (ms)'], ratio === null ? 'n/a' : ratio === '—' ? ratio : `${ratio.toFixed(2)}×`,
                row['flooder requests / tokens'], row['flooder most tokens in a window'], row['by sending time'], row['flooder calls refused']];
            }),
          ),
          '',
          sharedNote(result.tenants),
        ]
      : ['### tenants', '', `Not measured yet${result.tenants?.notRun ? ` (${result.tenants.notRun})` : ''}: \`BENCH_BUDGETS_PARTS=tenants npm run bench budgets\`.`];
    const counting = result.counting && !result.counting.notRun
      ? [
          '### counting',
          '',
          `Exact counting of a chat prompt of 1 KB, 100 KB and 1 MB (bench/budgets-counting.js). Target (issue 27): ≤ ${TARGETS.perCallMs1KB} ms per call for 1 KB.${measuredOn('counting')}`,
          '',
          markdownTable(Object.keys(result.counting.rows[0] ?? {}), result.counting.rows.map((row) => Object.values(row))),
        ]
      : ['### counting', '', `Not measured yet${result.counting?.notRun ? ` (${result.counting.notRun})` : ''}: \`BENCH_BUDGETS_PARTS=counting npm run bench budgets\`.`];
    return { markdown: [...tenants, '', ...counting].join('\n'), charts: {} };
  },
};
