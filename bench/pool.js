// Case "pool": issue 24's targets for a pool, one resilient() client over three members, each a loopback
// fault server with its own capacity (10, 20 and 30 requests a second, announced in OpenAI's x-ratelimit-*
// headers; 429s with retry-after-ms beyond it) and 20-60 ms of latency. 60 paced closed-loop callers
// offer the summed capacity, 60 calls a second (each caller one call a second, fewer when its calls take
// longer: see load.js). The pool is written as a user writes it: `resilient([{ client, name }, ...],
// { pool: { routing } })`, weights left to be learned from the headers. (The routing cost per call, a pool
// of 3 against a single client on an in-memory fetch, is measured by the overhead case.)
//
//   spread: 10% random 500s on the largest member, for each routing mode (balanced, the default; ordered;
//     weighted) in turn: goodput against the summed capacity, success, upstream requests per success, the
//     share of 429s, and what each member received against its capacity.
//   outage: no random failures; each member in turn (largest first, twice over) goes down (every request a
//     500: server.goDown()) for 2-3 s and comes back (server.comeBack()) for 2 s: success, requests the dead member
//     received once the pool had detected it (its circuit opened), and the time from its recovery to its
//     first success.
//
// Environment: BENCH_POOL_SECONDS (default 9: each spread run), BENCH_POOL_ROUTINGS (comma-separated,
// default balanced,ordered,weighted), BENCH_POOL_SCENARIOS (spread,outage), BENCH_POOL_SCALE (default 1: the
// issue's numbers; 0.5 halves every capacity and the offered load, for a busy machine).
import { barChart, lineChart } from './svg-chart.js';
import { checkTarget, markdownTable, median, pct, positiveEnv, reportTargets, round } from './report.js';
import { CALLERS, FLAKY, LATENCY_MS, MEMBERS, PARAMS, outage, routingDecision, spread } from './pool-scenarios.js';

const ROUTINGS = ['balanced', 'ordered', 'weighted'];
const OUTAGE = { warmS: 3, downS: 2, upS: 2, rounds: 2 };
// Issue 24's targets (the spread ones for the default routing, balanced).
const TARGETS = {
  goodputShare: 0.95,
  successRate: 0.99,
  upstreamPerSuccess: 1.1,
  rateLimitedShare: 0.01,
  memberLoad: 1,
  outageSuccessRate: 0.995,
  deadPerSecond: 1,
  backWithinMs: 1_000,
};


function listEnv(name, known) {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return known;
  const wanted = raw.split(',').map((v) => v.trim()).filter(Boolean);
  const unknown = wanted.filter((v) => !known.includes(v));
  if (unknown.length > 0) throw new TypeError(`${name}: unknown ${unknown.join(', ')}; known: ${known.join(', ')}`);
  return known.filter((v) => wanted.includes(v));
}

const ms = (v) => (v === null || v === undefined ? 'n/a' : `${Math.round(v)} ms`);
const memberCells = (run) => run.members.map((m) => `${m.admittedPerSecond} / ${m.capacityPerSecond} (${pct(m.load, 0)})`);

function spreadRow(run) {
  return {
    'success rate': pct(run.successRate, 2),
    'goodput / capacity': pct(run.goodputShare),
    'upstream req / success': run.upstreamPerSuccess === null ? 'n/a' : run.upstreamPerSuccess.toFixed(3),
    '429s': `${run.rateLimited} (${pct(run.rateLimitedShare, 2)})`,
    ...Object.fromEntries(run.members.map((m, i) => [`${m.name}: ok/s / cap (load)`, memberCells(run)[i]])),
    'p50 / p95 ms': `${run.p50Ms} / ${run.p95Ms}`,
  };
}

/** The outage numbers the targets read: all cycles together. */
function outageTotals(result) {
  const detected = result.cycles.filter((c) => c.afterDetectionS !== null);
  const seconds = detected.reduce((sum, c) => sum + c.afterDetectionS, 0);
  const back = result.cycles.map((c) => c.backAfterMs);
  return {
    deadPerSecond: seconds > 0 ? detected.reduce((sum, c) => sum + c.afterDetection, 0) / seconds : null,
    undetected: result.cycles.length - detected.length,
    backMedianMs: back.includes(null) ? null : median(back),
    backWorstMs: back.includes(null) ? null : Math.max(...back),
  };
}

export const pool = {
  name: 'pool',
  title: 'pool: one client over three members of 10, 20 and 30 requests/s, offered their sum',
  async run() {
    const seconds = positiveEnv('BENCH_POOL_SECONDS', 9);
    const scale = positiveEnv('BENCH_POOL_SCALE', 1);
    const routings = listEnv('BENCH_POOL_ROUTINGS', ROUTINGS);
    const scenarios = listEnv('BENCH_POOL_SCENARIOS', ['spread', 'outage']);
    const capacities = MEMBERS.map((m) => m.perSecond * scale);
    const summed = capacities.reduce((a, b) => a + b, 0);
    const spreads = [];
    if (scenarios.includes('spread')) {
      console.log(
        `\n== pool (spread): ${CALLERS} paced closed-loop callers offering ${summed} calls/s for ${seconds} s to members of ` +
          `${capacities.join(', ')} req/s (${LATENCY_MS.min}-${LATENCY_MS.max} ms, ${FLAKY.rate * 100}% random 500s on ${FLAKY.member}); ` +
          `routing ${routings.join(', ')}`,
      );
      for (const routing of routings) {
        console.log(`   routing ${routing} ...`);
        spreads.push(await spread(routing, { seconds, scale }));
      }
      console.table(Object.fromEntries(spreads.map((run) => [run.routing, spreadRow(run)])));
    }
    let down;
    if (scenarios.includes('outage')) {
      console.log(
        `\n== pool (outage): the same load and members (no random failures), routing balanced; after ${OUTAGE.warmS} s each member in ` +
          `turn, largest first, ${OUTAGE.rounds} times over, goes down (every request a 500) for ${OUTAGE.downS}-${OUTAGE.downS + 1} s, then is back for ${OUTAGE.upS} s`,
      );
      down = await outage({ scale, ...OUTAGE });
      console.table(
        Object.fromEntries(
          down.cycles.map((c, i) => [`${i + 1}. ${c.member}`, {
            'down s': c.downS,
            'detected after': ms(c.detectedAfterMs),
            'requests before detection': c.beforeDetection,
            'requests after detection (probes)': `${c.afterDetection} (${c.probesAfterDetection})`,
            'req/s after detection': c.perSecondAfterDetection === null ? 'n/a' : c.perSecondAfterDetection.toFixed(2),
            'back after': ms(c.backAfterMs),
          }]),
        ),
      );
      console.log(`   success ${pct(down.successRate, 2)} of ${down.calls} calls (${pct(down.successRateDuringOutages, 2)} of the ${down.callsDuringOutages} that ended during an outage)`);
    }

    const decisions = routings.map((routing) => routingDecision(routing));
    console.log(`\n   the routing decision alone (route(), three members): ${decisions.map((d) => `${d.routing} ${d.us.toFixed(3)} µs`).join(', ')}`);

    const balanced = spreads.find((run) => run.routing === 'balanced') ?? {};
    const totals = down ? outageTotals(down) : {};
    const targets = [
      ...(scenarios.includes('spread')
        ? [
            checkTarget('spread, balanced: goodput / summed capacity', balanced.goodputShare ?? null, { atLeast: TARGETS.goodputShare, format: (v) => pct(v) }),
            checkTarget('spread, balanced: success rate', balanced.successRate ?? null, { atLeast: TARGETS.successRate, format: (v) => pct(v, 2) }),
            checkTarget('spread, balanced: upstream requests per success', balanced.upstreamPerSuccess ?? null, { atMost: TARGETS.upstreamPerSuccess, format: (v) => v.toFixed(3) }),
            checkTarget('spread, balanced: 429s / upstream requests', balanced.rateLimitedShare ?? null, { atMost: TARGETS.rateLimitedShare, format: (v) => pct(v, 2) }),
            checkTarget('spread, balanced: most loaded member, requests judged by its capacity / what it could take', balanced.maxMemberLoad ?? null, { atMost: TARGETS.memberLoad, format: (v) => pct(v) }),
          ]
        : []),
      ...(down
        ? [
            checkTarget('outage: success rate', down.successRate, { atLeast: TARGETS.outageSuccessRate, format: (v) => pct(v, 2) }),
            checkTarget('outage: requests/s to the dead member once detected (all cycles)', totals.deadPerSecond, { atMost: TARGETS.deadPerSecond, format: (v) => v.toFixed(2) }),
            checkTarget('outage: from comeBack() to its first success (median of cycles)', totals.backMedianMs, { atMost: TARGETS.backWithinMs, format: ms }),
          ]
        : []),
    ];
    return reportTargets('pool', 'pool targets:', targets, {
      case: 'pool',
      date: new Date().toISOString(),
      node: process.version,
      openai: (await import('openai/version')).VERSION,
      config: { seconds, scale, callers: CALLERS, offeredPerSecond: summed, members: MEMBERS.map((m, i) => ({ ...m, perSecond: capacities[i] })), flaky: FLAKY, latencyMs: LATENCY_MS, request: PARAMS, outage: OUTAGE, routings, scenarios },
      notes: [
        'Members: loopback fault servers, capacity { requestsPerMinute: 60 × req/s, burstSeconds: 1 } (a bucket of one second of it), announced in x-ratelimit-* headers; beyond it a 429 with retry-after-ms.',
        `Load: ${CALLERS} callers, each starting a call at most once every ${CALLERS / summed} s on a staggered schedule, the next as soon as its call ends when it took longer (closed loop).`,
        'goodputShare = successes / (summed capacity × elapsed s); the buckets start full, so it can exceed 100% by about 1 s / elapsed.',
        "A member's load = (admitted + 429s) / (capacity × elapsed s + its bucket): the requests its capacity had to judge against what it could take; random 500s are drawn among admitted requests and use no capacity.",
        "Outage: a member is detected when the pool's circuit for it opens (the first circuitOpen event keyed `<member>/...`); back: from comeBack() to the first attempt on it that succeeded (attemptEnd with `member`), or, without that field, to the first request its server received.",
      ],
      spreads,
      outage: down ? { ...down, totals } : undefined,
      decisions,
    });
  },

  document(result) {
    const { config, spreads, outage: down } = result;
    const sections = [];
    if (spreads.length > 0) {
      const names = spreads[0].members.map((m) => m.name);
      sections.push(
        `**Spread.** ${config.callers} paced closed-loop callers offer ${config.offeredPerSecond} calls a second for ${config.seconds} s to three ` +
          `loopback members of ${config.members.map((m) => m.perSecond).join(', ')} requests a second (a bucket of one second, announced in ` +
          `\`x-ratelimit-*\`; ${config.latencyMs.min}-${config.latencyMs.max} ms of latency), ${config.flaky.rate * 100}% random 500s on ` +
          `\`${config.flaky.member}\`; one run per routing mode, each against fresh servers. Per member: successes a second / its capacity ` +
          "(load: the requests its capacity judged, successes and 429s, against what it could take: its rate over the run plus its full bucket at the start).",
        '',
        markdownTable(
          ['routing', 'success', 'goodput / capacity', 'upstream req / success', '429s', ...names.map((n) => `${n}: ok/s / capacity (load)`), 'p50 / p95 ms'],
          spreads.map((run) => {
            const r = spreadRow(run);
            return [run.routing === 'balanced' ? '**balanced** (default)' : run.routing, r['success rate'], r['goodput / capacity'], r['upstream req / success'], r['429s'], ...memberCells(run), r['p50 / p95 ms']];
          }),
        ),
        '',
      );
    }
    if (down) {
      sections.push(
        `**Outage.** The same load and members without random failures, routing \`balanced\`: after ${config.outage.warmS} s each member in turn, ` +
          `largest first, ${config.outage.rounds ?? 1} times over, goes down (\`server.goDown()\`: every request a 500) for ${config.outage.downS}-${config.outage.downS + 1} s (drawn), then ` +
          `comes back (\`server.comeBack()\`) for ${config.outage.upS} s. ${down.successes} of ${down.calls} calls succeeded (${pct(down.successRate, 2)}; ` +
          `${pct(down.successRateDuringOutages, 2)} of the ${down.callsDuringOutages} that ended while a member was down). "Detected": the pool's ` +
          'circuit for the member opened; a probe is a request sent within 100 ms of the circuit turning half-open, the other requests after detection ' +
          'were sent to the member while its circuit was open. "Back": from `comeBack()` to ' +
          `${down.cycles[0]?.backMeasuredBy === 'first success (attemptEnd)' ? 'the first attempt on it that succeeded' : 'the first request its server received'}.`,
        '',
        markdownTable(
          ['member down', 'for', 'detected after', 'requests before detection', 'requests after detection (of which probes)', 'per second after detection', 'back after'],
          down.cycles.map((c, i) => [
            `${i + 1}. ${c.member}`, `${c.downS.toFixed(2)} s`, ms(c.detectedAfterMs), c.beforeDetection, `${c.afterDetection} (${c.probesAfterDetection})`,
            c.perSecondAfterDetection === null ? 'n/a' : c.perSecondAfterDetection.toFixed(2), ms(c.backAfterMs),
          ]),
        ),
        '',
      );
    }
    if (result.decisions?.length > 0) {
      sections.push(
        `**The routing decision alone**, the library's \`route()\` choosing among three members whose limits are known (a million decisions): ` +
          `${result.decisions.map((d) => `${d.routing} ${(d.us * 1000).toFixed(0)} ns`).join(', ')}. What a pool adds to a whole call (the ` +
          "member's circuit and limits, its counters, the renamed model) is measured by the [overhead](#overhead) case.",
        '',
      );
    }
    const charts = {};
    if (spreads.length > 0) {
      charts['pool-spread'] = barChart({
        title: 'Pool, spread: success and goodput / summed capacity by routing (%, higher is better)',
        series: spreads.map((run) => run.routing),
        groups: [
          { label: 'success', values: spreads.map((run) => run.successRate * 100) },
          { label: 'goodput / capacity', values: spreads.map((run) => run.goodputShare * 100) },
        ],
        format: (v) => `${v.toFixed(1)}%`,
      });
      charts['pool-members'] = barChart({
        title: "Pool, spread: each member's load, requests judged by its capacity / what it could take (%, ≤ 100 wanted)",
        series: spreads.map((run) => run.routing),
        groups: spreads[0].members.map((m, i) => ({ label: `${m.name} (${m.capacityPerSecond}/s)`, values: spreads.map((run) => run.members[i].load * 100) })),
        format: (v) => `${v.toFixed(1)}%`,
      });
    }
    if (down) {
      charts['pool-outage'] = lineChart({
        title: 'Pool, outage: requests each member received per second (each down in turn, largest first)',
        xLabel: 'seconds into the run',
        yLabel: 'requests / s',
        series: down.timeline.map((m) => ({ label: m.name, points: m.receivedPerSecond.map((n, s) => [s, n]) })),
        references: config.members.map((m) => ({ label: `${m.name} capacity`, y: m.perSecond })),
        formatX: (v) => `${round(v)} s`,
        formatY: (v) => String(round(v)),
      });
    }
    return { markdown: sections.join('\n').trimEnd(), charts };
  },
};
