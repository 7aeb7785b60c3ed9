// Summaries, tables and result files shared by the bench cases.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { machine } from './machine.js';

/** The `p`-th percentile (0..100) of `values` by nearest rank; `null` when empty. */
export function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** The median (50th percentile by nearest rank); `null` when empty. */
export const median = (values) => percentile(values, 50);

/** Rounds to `digits` decimals (keeps `null`). */
export function round(value, digits = 0) {
  if (value === null || value === undefined || !Number.isFinite(value)) return value ?? null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Counts of `key(item)` over `items`, as a plain object sorted by count. */
export function countBy(items, key) {
  const counts = new Map();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]));
}

/** Formats a share (0..1) as a percentage string. */
export const pct = (share, digits = 1) => (share === null || !Number.isFinite(share) ? 'n/a' : `${(share * 100).toFixed(digits)}%`);

/**
 * Checks `value` against a target; `atLeast` or `atMost`.
 * @returns {{ name: string, target: string, value: number | null, pass: boolean }}
 */
export function checkTarget(name, value, { atLeast, atMost, format = String }) {
  const pass = value !== null && Number.isFinite(value) && (atLeast === undefined || value >= atLeast) && (atMost === undefined || value <= atMost);
  const target = atLeast !== undefined ? `≥ ${format(atLeast)}` : `≤ ${format(atMost)}`;
  return { name, target, value, shown: value === null ? 'n/a' : format(value), pass };
}

/** Prints PASS/MISS lines for `targets` under a heading. */
function printTargets(heading, targets) {
  console.log(`\n${heading}`);
  for (const t of targets) console.log(`  ${t.pass ? 'PASS' : 'MISS'}  ${t.name}: ${t.shown} (target ${t.target})`);
}

/** Targets as stored in a result file. */
const storedTargets = (targets) => targets.map(({ name, target, value, shown, pass }) => ({ name, target, value, shown, pass }));

/**
 * How every case ends: prints its `targets` under `heading`, writes `data` and the targets to
 * `bench/results/<name>.json` and says where; returns what the runner reads (`{ targets }`).
 */
export async function reportTargets(name, heading, targets, data) {
  printTargets(heading, targets);
  const file = await writeResults(name, { ...data, targets: storedTargets(targets) });
  console.log(`\n   results written to ${file}`);
  return { targets };
}

const RESULTS = new URL('./results/', import.meta.url);

/**
 * Writes `data` as pretty JSON to `bench/results/<name>.json`, with the machine and versions it was
 * measured on (`machine`); returns the path written.
 */
export async function writeResults(name, data) {
  await mkdir(RESULTS, { recursive: true });
  const file = new URL(`${name}.json`, RESULTS);
  await writeFile(file, `${JSON.stringify({ ...data, machine: await machine() }, null, 2)}\n`);
  return file.pathname;
}

/** The last results of case `name` (from `bench/results/<name>.json`), or `undefined` when it never ran. */
export async function readResults(name) {
  try {
    return JSON.parse(await readFile(new URL(`${name}.json`, RESULTS), 'utf8'));
  } catch (error) {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  }
}

/** A Markdown table; cells are printed as given (`|` escaped). */
export function markdownTable(headers, rows) {
  const cell = (value) => String(value ?? 'n/a').replace(/\|/g, '\\|');
  return [`| ${headers.map(cell).join(' | ')} |`, `|${headers.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`)].join('\n');
}

/** A positive number from the environment variable `name`, or `fallback` when it is unset or empty. */
export function positiveEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new TypeError(`${name} must be a positive number, got ${JSON.stringify(raw)}`);
  return value;
}

/** The comma-separated entries of the environment variable `name`, or `undefined` when it is not set. */
export function listEnv(name) {
  return process.env[name]?.split(',').map((entry) => entry.trim()).filter(Boolean);
}

/**
 * Runs the parts of a case that `envName` selects (default all of `parts`): `run(part)` measures one and
 * `targetsOf(part, data)` gives its targets. A part not run keeps its last results and targets (those whose
 * name starts with `prefixes[part]`), with their date, from bench/results/<caseName>.json.
 */
export async function runParts(caseName, { parts, envName, prefixes, run, targetsOf }) {
  const wanted = listEnv(envName) ?? parts;
  const unknown = wanted.filter((part) => !parts.includes(part));
  if (unknown.length > 0) throw new Error(`${envName}: unknown part(s) ${unknown.join(', ')}; available: ${parts.join(', ')}`);
  const previous = await readResults(caseName);
  const date = new Date().toISOString();
  const results = {};
  const targets = [];
  for (const part of parts) {
    if (wanted.includes(part)) {
      const data = await run(part);
      results[part] = { measured: date, data };
      targets.push(...targetsOf(part, data));
    } else if (previous?.[part]) {
      results[part] = { measured: previous.measured?.[part] ?? previous.date, data: previous[part] };
      targets.push(...(previous.targets ?? []).filter((t) => t.name.startsWith(prefixes[part])));
      console.log(`\n   ${caseName} (${part}): not run; its results of ${results[part].measured} are kept`);
    }
  }
  return { date, parts: results, targets, measured: Object.fromEntries(Object.entries(results).map(([part, { measured }]) => [part, measured])) };
}

/** Calls that succeeded, and failures by error name, over the outcomes of several processes. */
export function sumOutcomes(outcomes) {
  const failed = {};
  for (const o of outcomes) for (const [name, n] of Object.entries(o.failed)) failed[name] = (failed[name] ?? 0) + n;
  return { succeeded: outcomes.reduce((n, o) => n + o.succeeded, 0), failed };
}

/** The others' p95 in the tenants run `key` against the baseline's (`null` when either is missing or any of their calls failed). */
export function othersRatio(tenants, key) {
  const baseline = tenants.runs.find((r) => r.key === 'baseline');
  const run = tenants.runs.find((r) => r.key === key);
  if (!baseline || !run || baseline.others.failed > 0 || run.others.failed > 0) return null;
  return round(run.others.p95 / baseline.others.p95, 2);
}
