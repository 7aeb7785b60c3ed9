// `npm run bench [case...]`: benchmarks against the built dist/, never part of `npm test`. With no
// argument every case runs and docs/benchmarks.md is regenerated from their results; `npm run bench
// overhead` (or `node bench/index.js overhead`) runs one case by name and leaves the page alone (`node
// bench/write-docs.js overhead` then re-renders its section).
// Targets print PASS/MISS and never fail the process.
import { CASES } from './cases.js';
import { writeDocs } from './write-docs.js';

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !CASES.some((c) => c.name === name));
if (unknown.length > 0) {
  console.error(`unknown bench case(s): ${unknown.join(', ')}; available: ${CASES.map((c) => c.name).join(', ')}`);
  process.exitCode = 2;
} else {
  const selected = wanted.length === 0 ? CASES : CASES.filter((c) => wanted.includes(c.name));
  const started = performance.now();
  const summary = [];
  for (const c of selected) {
    const caseStarted = performance.now();
    const { targets } = await c.run();
    summary.push({ case: c.title, targets: `${targets.filter((t) => t.pass).length}/${targets.length} met`, seconds: Math.round((performance.now() - caseStarted) / 100) / 10 });
  }
  if (selected.length > 1) console.table(summary);
  console.log(`\nbench: ${selected.length} case(s) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  if (selected.length === CASES.length) {
    console.log(`docs: ${await writeDocs({ seconds: (performance.now() - started) / 1000 })} regenerated`);
  } else {
    const names = selected.map((c) => c.name).join(' ');
    console.log(`docs: docs/benchmarks.md not regenerated (only some cases ran); \`node bench/write-docs.js ${names}\` re-renders ${selected.length === 1 ? 'its section' : 'their sections'}`);
  }
}
