// The "backlog" half of the `classes` case: one process, a loopback fault server that admits 20 requests a
// second (1 200 a minute, a bucket of one second's worth) and says so in OpenAI's x-ratelimit-* headers.
// Interactive calls arrive at 5 a second, first on the idle server (their baseline), then while a backlog
// of 1 000 background calls drains. Measured: the interactive calls' p95 latency against the baseline, the
// background calls' goodput while the interactive calls run against the 15 a second they leave, and how
// every background call ended.
//
// Three subjects, each against a fresh server: resilient() with the calls' classes declared (forClass()),
// resilient() with no class declared (every call `default`: the state before issue 26), and the bare SDK.
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI from 'openai';
import { resilient } from '../dist/index.js';
import { startFaultServer } from '../dist/testing/index.js';
import { countBy, percentile, round } from './report.js';

export const BACKLOG = Object.freeze({
  requestsPerSecond: 20,
  interactivePerSecond: 5,
  backgroundCalls: 1_000,
  /** Seconds of interactive arrivals: on the idle server, then during the drain. */
  interactiveSeconds: { idle: 10, busy: 30 },
});
const PARAMS = { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'Say ok' }], max_tokens: 16 };

/** The subjects: a client factory per key, and what the bench declares as each call's class. */
export const BACKLOG_SUBJECTS = [
  {
    key: 'classes',
    name: 'resilient(), classes declared',
    make: (url) => {
      const ai = resilient(new OpenAI({ apiKey: 'sk-bench', baseURL: url }));
      return { interactive: ai.resilience.forClass('interactive'), background: ai.resilience.forClass('background') };
    },
  },
  {
    key: 'no-classes',
    name: 'resilient(), no class declared',
    make: (url) => {
      const ai = resilient(new OpenAI({ apiKey: 'sk-bench', baseURL: url }));
      return { interactive: ai, background: ai };
    },
  },
  {
    key: 'bare',
    name: 'bare SDK',
    make: (url) => {
      const sdk = new OpenAI({ apiKey: 'sk-bench', baseURL: url });
      return { interactive: sdk, background: sdk };
    },
  },
];

/** Interactive calls at `perSecond` for `seconds`, each timed from its start; a failure counts as never answered. */
async function interactiveCalls(client, seconds, perSecond, signal) {
  const latencies = [];
  const failures = [];
  const calls = [];
  const started = performance.now();
  for (let i = 0; i < seconds * perSecond; i++) {
    const at = performance.now();
    calls.push(
      client.chat.completions.create(PARAMS, { signal }).then(
        () => latencies.push(performance.now() - at),
        (error) => failures.push(error?.constructor?.name ?? String(error)),
      ),
    );
    // Arrivals on a fixed schedule (not after each call): lateness of the loop does not thin them out.
    const next = started + ((i + 1) * 1000) / perSecond;
    await sleep(Math.max(0, next - performance.now()));
  }
  await Promise.all(calls);
  return { latencies, failures };
}

/** One subject against a fresh server: the idle baseline, then the drain with interactive calls on top. */
export async function backlogRun(subject, latencyMs) {
  const { requestsPerSecond, interactivePerSecond, backgroundCalls, interactiveSeconds } = BACKLOG;
  const server = await startFaultServer({ capacity: { requestsPerMinute: requestsPerSecond * 60, burstSeconds: 1 }, latencyMs });
  const controller = new AbortController();
  // Every call listens to the one signal that ends the run.
  setMaxListeners(0, controller.signal);
  try {
    const { interactive, background } = subject.make(server.url);
    // Learns the limits before measuring (a first call reads the headers).
    await interactive.chat.completions.create(PARAMS);
    await sleep(1000);
    const idle = await interactiveCalls(interactive, interactiveSeconds.idle, interactivePerSecond, controller.signal);
    await sleep(1000);

    const start = performance.now();
    const ended = [];
    const backlog = Array.from({ length: backgroundCalls }, () =>
      background.chat.completions.create(PARAMS, { signal: controller.signal }).then(
        () => ended.push({ at: performance.now() - start, ok: true }),
        (error) => ended.push({ at: performance.now() - start, ok: false, error: error?.constructor?.name ?? String(error) }),
      ),
    );
    // The interactive calls start once the backlog has filled the server's capacity.
    await sleep(1000);
    const busyFrom = performance.now() - start;
    const busy = await interactiveCalls(interactive, interactiveSeconds.busy, interactivePerSecond, controller.signal);
    const busyTo = performance.now() - start;
    // Every background call ends (a cutoff far beyond the drain's length aborts what would not).
    const cutoff = setTimeout(() => controller.abort(new Error('classes bench cutoff')), ((backgroundCalls / requestsPerSecond) * 4 + 60) * 1000);
    await Promise.all(backlog);
    clearTimeout(cutoff);
    const succeededInWindow = ended.filter((e) => e.ok && e.at >= busyFrom && e.at <= busyTo).length;
    const leftover = requestsPerSecond - interactivePerSecond;
    const idleP95 = percentile(idle.latencies, 95);
    const busyP95 = percentile(busy.latencies, 95);
    return {
      key: subject.key,
      subject: subject.name,
      idle: { p50: round(percentile(idle.latencies, 50)), p95: round(idleP95), failed: idle.failures.length },
      busy: { p50: round(percentile(busy.latencies, 50)), p95: round(busyP95), failed: busy.failures.length, failures: countBy(busy.failures, (f) => f) },
      p95Ratio: idleP95 && busyP95 && busy.failures.length === 0 ? round(busyP95 / idleP95, 2) : null,
      backgroundGoodput: round(succeededInWindow / ((busyTo - busyFrom) / 1000), 2),
      goodputShare: round(succeededInWindow / ((busyTo - busyFrom) / 1000) / leftover, 3),
      background: {
        succeeded: ended.filter((e) => e.ok).length,
        failed: countBy(ended.filter((e) => !e.ok), (e) => e.error),
        allDoneS: round(Math.max(...ended.map((e) => e.at)) / 1000, 1),
      },
      server: server.stats(),
    };
  } finally {
    controller.abort();
    await server.close();
  }
}
