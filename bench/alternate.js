// Side-by-side timing: several subjects measured in the same process in alternating rounds, the order
// reversed every round, so that drift, GC and JIT affect them alike. What counts is the median of the
// per-round means of each subject, and the ratios between subjects measured this way.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { median } from './report.js';

/**
 * Calls between two turns of the event loop. An in-memory fetch answers in microtasks, so a loop of calls
 * would otherwise be one single job, and V8 keeps the target of every WeakRef made during a job until it
 * ends (the SDK makes some per call when given a signal: `AbortSignal.any`; resilient() gives one to hedged attempts). Real
 * calls wait for I/O, which ends the job every call; yielding here does the same for every subject alike.
 */
export const YIELD_EVERY = 100;

/**
 * @param {Record<string, () => Promise<unknown>>} subjects  name → one call
 * @param {{ rounds?: number, calls: number, warmup: number }} options  calls per round; warm-up calls per subject
 * @returns {Promise<Record<string, { roundsUs: number[], medianUs: number }>>} mean µs per call of every round, and their median
 */
export async function alternate(subjects, { rounds = 15, calls, warmup }) {
  const names = Object.keys(subjects);
  for (const name of names) await timeCalls(subjects[name], warmup);
  const roundsUs = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) roundsUs[name].push(await timeCalls(subjects[name], calls));
  }
  return Object.fromEntries(names.map((name) => [name, { roundsUs: roundsUs[name], medianUs: median(roundsUs[name]) }]));
}

/** Mean µs per call of `calls` sequential calls (a turn of the event loop every `YIELD_EVERY`, timed too). */
async function timeCalls(call, calls) {
  const start = performance.now();
  for (let i = 1; i <= calls; i++) {
    await call();
    if (i % YIELD_EVERY === 0) await nextTurn();
  }
  return ((performance.now() - start) * 1000) / calls;
}
