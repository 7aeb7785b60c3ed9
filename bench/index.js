// `npm run bench [case...]`: benchmarks against the built dist/ and a loopback fault server. Never part
// of `npm test`. With no argument every case runs; `node bench/index.js chaos` runs one case by name.
// Targets print PASS/MISS and never fail the process.
import { cache } from './cache.js';
import { chaos } from './chaos.js';
import { redis } from './redis.js';

/** Every case: `{ name, title, run(): Promise<{ targets }> }`. Add new cases here. */
const CASES = [chaos, cache, redis];

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !CASES.some((c) => c.name === name));
if (unknown.length > 0) {
  console.error(`unknown bench case(s): ${unknown.join(', ')}; available: ${CASES.map((c) => c.name).join(', ')}`);
  process.exitCode = 2;
} else {
  const selected = wanted.length === 0 ? CASES : CASES.filter((c) => wanted.includes(c.name));
  const summary = [];
  for (const c of selected) {
    const { targets } = await c.run();
    summary.push({ case: c.title, targets: `${targets.filter((t) => t.pass).length}/${targets.length} met` });
  }
  if (selected.length > 1) console.table(summary);
}
