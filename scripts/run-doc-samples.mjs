// Runs every code sample of README.md and docs/*.md that is a complete program (it imports or defines
// every name it uses: see scripts/doc-samples/samples.mjs), so that a reader who copies one verbatim gets
// a program that works. Run: `npm run docs:run` (it builds first), or `node scripts/run-doc-samples.mjs
// [--verbose] [docs/testing.md ...]` to run only the samples of some documents (--verbose: with their output).
//
// `openai-resilient` and its subpaths are the build (dist/), as for an application that installed the
// package. Each sample runs in its own process, offline, against a fresh fault server of its own
// (scripts/doc-samples/offline.mjs sends the SDK's https://api.openai.com to it and refuses every other
// non-loopback address), with OPENAI_API_KEY set to a dummy key. A sample that reads REDIS_URL gets a fresh
// redis-server on loopback. How a sample is run depends on what it imports:
//   - `vitest`: `vitest run` on that file;  `node:test`: `node --test` on that file;
//   - anything else: `node`, and the process must exit by itself with code 0 (a sample whose code finishes
//     but leaves a timer or socket behind fails), except for a sample flagged `long-running` on its fence
//     (```ts long-running), which passes once its top-level code has finished and is then stopped.
// A sample fails on a non-zero exit, an error, or when it has not finished within DOC_SAMPLES_TIMEOUT_MS
// (30 s by default); the report names it by file:line, and its stack traces carry the document's lines.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { transform } from 'esbuild';
import { kindOf, runSample, sampleEnv } from './doc-samples/run-sample.mjs';
import { readSamples } from './doc-samples/samples.mjs';

const root = new URL('..', import.meta.url).pathname;
const out = join(root, '.cache', 'doc-samples-run');
const timeoutMs = Number(process.env.DOC_SAMPLES_TIMEOUT_MS ?? 30_000);
const verbose = process.argv.includes('--verbose');
const only = process.argv.slice(2).filter((arg) => arg !== '--verbose');

if (!existsSync(join(root, 'dist', 'testing', 'index.js'))) {
  console.error('doc samples: dist/ is not built: run `npm run build` first (or `npm run docs:run`, which builds)');
  process.exit(1);
}
const { startFaultServer } = await import(pathToFileURL(join(root, 'dist', 'testing', 'index.js')).href);

const samples = readSamples(root).filter((sample) => sample.complete && (only.length === 0 || only.some((prefix) => sample.where.startsWith(prefix))));
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
// A file under the repository resolves `openai-resilient` to the package itself (dist/, through the
// `exports` of package.json) and `openai`, `redis`, `vitest` to node_modules. Vite does not resolve a
// package's own name, hence the aliases for vitest samples.
const alias = (find, path) => `{ find: ${find}, replacement: ${JSON.stringify(join(root, 'dist', path))} }`;
writeFileSync(
  join(out, 'vitest.config.mjs'),
  [
    'export default {',
    '  resolve: {',
    '    alias: [',
    `      ${alias('/^openai-resilient$/', 'index.js')},`,
    ...['testing', 'otel', 'redis'].map((sub) => `      ${alias(`/^openai-resilient\\/${sub}$/`, `${sub}/index.js`)},`),
    '    ],',
    '  },',
    "  test: { include: ['*.test.ts', '*.test.js'], testTimeout: 10_000, dangerouslyIgnoreUnhandledErrors: false },",
    '};',
    '',
  ].join('\n'),
);

const results = [];
for (const sample of samples) {
  const result = await run(sample);
  results.push(result);
  const took = `${(result.ms / 1000).toFixed(1)} s`;
  console.log(`${result.ok ? 'ok  ' : 'FAIL'}  ${sample.where.padEnd(34)} ${result.kind.padEnd(12)} ${took.padStart(6)}  ${result.note}`);
  const output = result.output.trim();
  if (output && (!result.ok || verbose)) console.log(output.replace(/^/gm, '      | '));
}
const failed = results.filter((result) => !result.ok);
if (samples.length === 0) {
  console.error(`doc samples: no complete program${only.length ? ` in ${only.join(', ')}` : ''}`);
  process.exitCode = 1;
} else if (failed.length > 0) {
  console.error(`doc samples: ${failed.length} of ${samples.length} complete programs failed: ${failed.map((result) => result.where).join(', ')}`);
  process.exitCode = 1;
} else {
  console.log(`doc samples: ${samples.length} complete programs ran (offline, against the fault server)`);
}

/** Runs one sample in a child process against a fresh fault server (and Redis when it reads REDIS_URL). */
async function run(sample) {
  const kind = kindOf(sample);
  const started = Date.now();
  const server = await startFaultServer();
  let redis;
  try {
    if (sample.code.includes('REDIS_URL')) redis = await startRedis();
    const file = await write(sample, kind);
    const env = sampleEnv(process.env, { openaiOrigin: server.origin, redisUrl: redis?.url });
    const outcome = await runSample({ file, kind, env, cwd: root, timeoutMs, vitestConfig: join(out, 'vitest.config.mjs') });
    const sent = server.requests.length;
    const requests = sent > 0 ? `${sent} request${sent === 1 ? '' : 's'} to api.openai.com (the fault server)` : '';
    return { where: sample.where, kind, ...outcome, note: outcome.ok ? [requests, outcome.note].filter(Boolean).join('; ') : outcome.note };
  } catch (error) {
    return { where: sample.where, kind, ok: false, ms: Date.now() - started, note: error.message, output: '' };
  } finally {
    await server.close();
    redis?.stop();
  }
}

/** Writes the sample where it runs; stack traces point into the document (an inline source map). */
async function write(sample, kind) {
  if (kind === 'vitest') {
    const file = join(out, `${sample.name}.test.${sample.lang}`);
    writeFileSync(file, sample.code);
    return file;
  }
  const { code } = await transform(sample.code, {
    loader: sample.lang,
    format: 'esm',
    target: 'node20',
    sourcemap: 'inline',
    sourcefile: join(root, sample.file),
  });
  const file = join(out, `${sample.name}.mjs`);
  writeFileSync(file, code);
  return file;
}

/** A fresh redis-server on a free loopback port, persistence off (installed by .ci/run or the test setup). */
async function startRedis() {
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) {
    throw new Error('reads REDIS_URL, and redis-server is not on PATH: install it (Debian: apt-get install redis-server)');
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'doc-samples-redis-'));
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start within 10 s: ${log}`)), 10_000);
    proc.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    proc.stdout.on('data', (chunk) => {
      log += chunk;
      if (!log.includes('Ready to accept connections')) return;
      clearTimeout(timer);
      resolve();
    });
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () => {
      proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}
