// The runs of the "pool" case (bench/pool.js): three loopback fault servers with OpenAI's rate-limit
// headers behind one pooled resilient() client, loaded by paced closed-loop callers.
//   spread(routing): a steady load at the pool's summed capacity, 10% random 500s on the largest member;
//   outage(): the same members without failures, each taken down in turn (goDown) and brought back (comeBack),
//     twice over.
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI from 'openai';
import { resilient } from '../dist/index.js';
import { MemberState } from '../dist/pool/member-state.js';
import { route } from '../dist/pool/route.js';
import { startFaultServer } from '../dist/testing/index.js';
import { closedLoop } from './load.js';
import { countBy, percentile, round } from './report.js';

/** The members at scale 1: requests a second each (a bucket of one second of it, as burstSeconds 1). */
export const MEMBERS = [
  { name: 'small', perSecond: 10 },
  { name: 'medium', perSecond: 20 },
  { name: 'large', perSecond: 30 },
];
/** Which member fails 10% of its requests in the spread runs (a random 500 uses none of its capacity). */
export const FLAKY = { member: 'large', rate: 0.1, seed: 42 };
export const LATENCY_MS = { min: 20, max: 60 };
export const CALLERS = 60;
export const PARAMS = { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'Say ok' }], max_tokens: 16 };

const summedCapacity = (scale) => MEMBERS.reduce((sum, m) => sum + m.perSecond, 0) * scale;

/** One fault server per member; `flaky` adds FLAKY's random failures to its member. */
async function startMembers(scale, { flaky }) {
  return Promise.all(
    MEMBERS.map(async (m) => {
      const perSecond = m.perSecond * scale;
      const server = await startFaultServer({
        capacity: { requestsPerMinute: perSecond * 60, burstSeconds: 1 },
        latencyMs: LATENCY_MS,
        ...(flaky && m.name === FLAKY.member ? { randomFailures: { rate: FLAKY.rate, seed: FLAKY.seed } } : {}),
      });
      return { ...m, perSecond, bucket: Math.max(1, perSecond), server };
    }),
  );
}

/** The pool under test, exactly as a user writes it: one member per client, named, weights left to learn. */
function poolOf(members, routing) {
  return resilient(
    members.map((m) => ({ client: new OpenAI({ apiKey: `sk-bench-${m.name}`, baseURL: m.server.url }), name: m.name })),
    { pool: { routing } },
  );
}

/** Paced closed-loop load: CALLERS callers offering `perSecond` calls a second while calls keep up. */
function load(ai, perSecond, durationMs) {
  return closedLoop({
    callers: CALLERS,
    periodMs: (CALLERS * 1000) / perSecond,
    durationMs,
    call: (signal) => ai.chat.completions.create(PARAMS, { signal }),
  });
}

/** What each member's server saw, against its capacity over `elapsedS`. */
function memberSummary(members, elapsedS) {
  const admittedTotal = members.reduce((sum, m) => sum + m.server.stats().admitted, 0);
  const capacityTotal = members.reduce((sum, m) => sum + m.perSecond, 0);
  return members.map((m) => {
    const stats = m.server.stats();
    return {
      name: m.name,
      capacityPerSecond: m.perSecond,
      received: stats.received,
      admitted: stats.admitted,
      rateLimited: stats.rateLimited,
      randomFailures: stats.randomFailures,
      receivedPerSecond: round(stats.received / elapsedS, 2),
      admittedPerSecond: round(stats.admitted / elapsedS, 2),
      // The requests its capacity had to judge (random failures are drawn among admitted ones and use none),
      // against what it could take over the run: a full bucket at the start, then its rate.
      load: (stats.admitted + stats.rateLimited) / (m.perSecond * elapsedS + m.bucket),
      successShare: admittedTotal ? stats.admitted / admittedTotal : null,
      capacityShare: m.perSecond / capacityTotal,
    };
  });
}

/** A steady load at the summed capacity through `routing`. */
export async function spread(routing, { seconds, scale }) {
  const members = await startMembers(scale, { flaky: true });
  try {
    const ai = poolOf(members, routing);
    const retries = [];
    ai.resilience.on('retry', (e) => retries.push(e.kind));
    const offered = summedCapacity(scale);
    const result = await load(ai, offered, seconds * 1000);
    const elapsedS = result.elapsedMs / 1000;
    const successes = result.records.filter((r) => r.ok);
    const failures = result.records.filter((r) => !r.ok);
    const perMember = memberSummary(members, elapsedS);
    const received = perMember.reduce((sum, m) => sum + m.received, 0);
    const rateLimited = perMember.reduce((sum, m) => sum + m.rateLimited, 0);
    const latencies = successes.map((r) => r.ms);
    return {
      routing,
      offeredPerSecond: offered,
      capacityPerSecond: offered,
      calls: result.records.length,
      successes: successes.length,
      successRate: result.records.length ? successes.length / result.records.length : null,
      elapsedS: round(elapsedS, 3),
      goodputPerSecond: round(successes.length / elapsedS, 2),
      goodputShare: successes.length / (offered * elapsedS),
      upstreamRequests: received,
      upstreamPerSuccess: successes.length ? received / successes.length : null,
      rateLimited,
      rateLimitedShare: received ? rateLimited / received : null,
      maxMemberLoad: Math.max(...perMember.map((m) => m.load)),
      p50Ms: round(percentile(latencies, 50)),
      p95Ms: round(percentile(latencies, 95)),
      p99Ms: round(percentile(latencies, 99)),
      members: perMember,
      retriesByKind: countBy(retries, (k) => k),
      errors: countBy(failures, (r) => `${r.error}${r.status ? ` ${r.status}` : ''}`),
      abortedAtDrainLimit: result.aborted,
    };
  } finally {
    await Promise.all(members.map((m) => m.server.close()));
  }
}

/**
 * The outage plan: a warm-up, then each member down in turn (largest first, `rounds` times over) for a
 * time drawn in [downS, downS + 1) s, so that the recovery does not fall at the same point of the
 * circuit's probe schedule every time, then back up for `upS` seconds.
 */
function outagePlan({ warmS, downS, upS, rounds }) {
  const order = [...MEMBERS].reverse().map((m) => m.name);
  const cycles = Array.from({ length: rounds }, () => order.map((name) => ({ name, downMs: (downS + Math.random()) * 1000, upMs: upS * 1000 })));
  return { warmMs: warmS * 1000, cycles: cycles.flat() };
}

/** Requests a member's server received in [from, to) (epoch ms). */
const receivedBetween = (server, from, to) => server.requests.filter((r) => r.receivedAt >= from && r.receivedAt < to);

/** Each member down in turn while the load runs: success, requests to the dead member, time back. */
export async function outage({ scale, warmS, downS, upS, rounds }) {
  const members = await startMembers(scale, { flaky: false });
  const byName = new Map(members.map((m) => [m.name, m]));
  try {
    const ai = poolOf(members, 'balanced');
    const opened = [];
    const memberSuccesses = [];
    const circuitEvents = [];
    ai.resilience.on('circuitOpen', (e) => opened.push({ key: e.key, at: Date.now() }));
    for (const name of ['circuitOpen', 'circuitHalfOpen', 'circuitClose']) ai.resilience.on(name, (e) => circuitEvents.push({ event: name, key: e.key, at: Date.now() }));
    ai.resilience.on('attemptEnd', (e) => {
      if (e.outcome === 'success' && e.member !== undefined) memberSuccesses.push({ member: e.member, at: Date.now() });
    });
    const plan = outagePlan({ warmS, downS, upS, rounds });
    const durationMs = plan.warmMs + plan.cycles.reduce((sum, c) => sum + c.downMs + c.upMs, 0);
    const startedAt = Date.now();
    const running = load(ai, summedCapacity(scale), durationMs);
    const cycles = [];
    await sleep(plan.warmMs);
    for (const cycle of plan.cycles) {
      const { server } = byName.get(cycle.name);
      const downAt = Date.now();
      server.goDown(500);
      await sleep(cycle.downMs);
      const upAt = Date.now();
      server.comeBack();
      await sleep(cycle.upMs);
      cycles.push({ name: cycle.name, downAt, upAt });
    }
    const result = await running;
    const endAt = Date.now();
    return {
      durationS: round(durationMs / 1000, 2),
      ...outcomes(result, { startedAt, cycles }),
      cycles: cycles.map((c, i) => cycleSummary(c, byName.get(c.name).server, { opened, circuitEvents, memberSuccesses, nextDownAt: cycles[i + 1]?.downAt ?? endAt })),
      timeline: timeline(members, startedAt, endAt),
      members: memberSummary(members, (endAt - startedAt) / 1000),
    };
  } finally {
    await Promise.all(members.map((m) => m.server.close()));
  }
}

/** Success overall and among the calls that ended while a member was down. */
function outcomes(result, { startedAt, cycles }) {
  const during = result.records.filter((r) => cycles.some((c) => startedAt + r.at >= c.downAt && startedAt + r.at < c.upAt));
  const failures = result.records.filter((r) => !r.ok);
  return {
    calls: result.records.length,
    successes: result.records.length - failures.length,
    successRate: result.records.length ? (result.records.length - failures.length) / result.records.length : null,
    callsDuringOutages: during.length,
    successRateDuringOutages: during.length ? during.filter((r) => r.ok).length / during.length : null,
    errors: countBy(failures, (r) => `${r.error}${r.status ? ` ${r.status}` : ''}`),
    abortedAtDrainLimit: result.aborted,
  };
}

/**
 * One member's outage: when the pool detected it (its circuit for the model opened: the first
 * `circuitOpen` whose key is `<member>/...`), what it received before and after that, and how soon after
 * `comeBack()` it took traffic (its server received a request) and answered a call (an attempt on it succeeded).
 */
function cycleSummary(cycle, server, { opened, circuitEvents, memberSuccesses, nextDownAt }) {
  const { name, downAt, upAt } = cycle;
  const open = opened.find((o) => o.key.startsWith(`${name}/`) && o.at >= downAt && o.at < upAt);
  const detectedAt = open?.at ?? null;
  const afterDetection = detectedAt === null ? [] : receivedBetween(server, detectedAt, upAt);
  const firstBack = receivedBetween(server, upAt, nextDownAt)[0];
  const firstSuccess = memberSuccesses.find((s) => s.member === name && s.at >= upAt);
  const own = circuitEvents.filter((e) => e.key.startsWith(`${name}/`) && e.at >= downAt && e.at < nextDownAt);
  // A probe: a request received within 100 ms of its circuit turning half-open; the others were sent while it was open.
  const halfOpens = own.filter((e) => e.event === 'circuitHalfOpen').map((e) => e.at);
  const probes = afterDetection.filter((r) => halfOpens.some((at) => r.receivedAt >= at && r.receivedAt - at <= 100)).length;
  return {
    member: name,
    downS: round((upAt - downAt) / 1000, 3),
    detectedAfterMs: detectedAt === null ? null : detectedAt - downAt,
    beforeDetection: receivedBetween(server, downAt, detectedAt ?? upAt).length,
    afterDetection: afterDetection.length,
    probesAfterDetection: probes,
    afterDetectionS: detectedAt === null ? null : round((upAt - detectedAt) / 1000, 3),
    perSecondAfterDetection: detectedAt === null ? null : afterDetection.length / ((upAt - detectedAt) / 1000),
    firstRequestAfterMs: firstBack ? firstBack.receivedAt - upAt : null,
    firstSuccessAfterMs: firstSuccess ? firstSuccess.at - upAt : null,
    // Without a `member` on attemptEnd events, the first request its server received after comeBack().
    backAfterMs: firstSuccess ? firstSuccess.at - upAt : firstBack ? firstBack.receivedAt - upAt : null,
    backMeasuredBy: firstSuccess ? 'first success (attemptEnd)' : 'first request received (server)',
    // When (ms after goDown) its server received each request after detection, and its circuit's transitions.
    afterDetectionAtMs: afterDetection.map((r) => r.receivedAt - downAt),
    circuit: own.map((e) => `${e.event} +${e.at - downAt} ms`),
  };
}

/** Requests each member's server received (whatever it answered), per second of the run. */
function timeline(members, startedAt, endAt) {
  const seconds = Math.ceil((endAt - startedAt) / 1000);
  return members.map((m) => {
    const bins = new Array(seconds).fill(0);
    for (const r of m.server.requests) {
      const bin = Math.floor((r.receivedAt - startedAt) / 1000);
      if (bin >= 0 && bin < seconds) bins[bin]++;
    }
    return { name: m.name, receivedPerSecond: bins };
  });
}

/**
 * The routing decision alone (the library's own `route()`, from the build): µs per decision among three
 * members whose limits are known and who all can take the call, the inputs the pipeline gives it.
 */
export function routingDecision(routing, decisions = 1_000_000) {
  const members = MEMBERS.map((m, index) => new MemberState({ name: m.name, weight: 1, models: undefined, maxConcurrent: undefined }, index));
  const views = new Map(members.map((member, i) => [member, { blockedUntil: undefined, queueWait: 0, requestsPerMinute: MEMBERS[i].perSecond * 60 }]));
  const outlook = (member) => views.get(member);
  let sink = 0;
  const run = (n) => {
    const now = Date.now();
    for (let i = 0; i < n; i++) sink += route(members, routing, PARAMS.model, undefined, now, outlook).member.index;
  };
  run(decisions / 10); // warm-up
  const start = performance.now();
  run(decisions);
  const us = ((performance.now() - start) * 1000) / decisions;
  return { routing, decisions, us: round(us, 3), sink };
}
