// Runs one documentation sample in a child process and judges how it ended (for
// scripts/run-doc-samples.mjs; tested by test/scripts/run-sample.test.ts).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const here = new URL('.', import.meta.url).pathname;

/**
 * How a sample runs, from what it imports: `vitest` (vitest run on the file), `node:test` (node --test), or
 * a program (`node`), `long-running` when its fence says so.
 */
export function kindOf(sample) {
  if (/from\s+['"]vitest['"]/.test(sample.code)) return 'vitest';
  if (/from\s+['"]node:test['"]/.test(sample.code)) return 'node:test';
  return sample.flags.has('long-running') ? 'long-running' : 'program';
}

/**
 * The environment of a sample's process: the caller's, without its OPENAI_* / AZURE_OPENAI_* settings (a
 * real key or base URL must not leak in), with a dummy OPENAI_API_KEY, the fault server that stands in for
 * https://api.openai.com (scripts/doc-samples/offline.mjs, preloaded), REDIS_URL when given, source maps
 * on (stack traces carry the document's lines) and colours off.
 */
export function sampleEnv(base, { openaiOrigin, redisUrl } = {}) {
  const env = Object.fromEntries(Object.entries(base).filter(([name]) => !/^(OPENAI|AZURE_OPENAI)_/.test(name)));
  env.OPENAI_API_KEY = 'sk-doc-samples-not-a-real-key';
  if (openaiOrigin) env.DOC_SAMPLES_OPENAI_ORIGIN = openaiOrigin;
  if (redisUrl) env.REDIS_URL = redisUrl;
  env.NODE_OPTIONS = `${base.NODE_OPTIONS ?? ''} --enable-source-maps --import=${pathToFileURL(join(here, 'offline.mjs')).href}`.trim();
  env.FORCE_COLOR = '0';
  env.NO_COLOR = '1';
  return env;
}

/**
 * Runs the sample in `file` (JavaScript, as `kind` says) with `env`, from `cwd`. A program's top-level code
 * must finish within `timeoutMs` and its process must then exit by itself, with code 0, within
 * `exitTimeoutMs` (a timer or socket left behind fails it); a `long-running` one is stopped once its code has
 * finished. A test file (`vitest`, `node:test`) must pass within `timeoutMs`. Resolves to `{ ok, note,
 * output, ms }`: `note` says what went wrong, `output` is what the process printed (stdout and stderr).
 */
export function runSample({ file, kind, env, cwd, timeoutMs = 30_000, exitTimeoutMs = 10_000, vitestConfig }) {
  const program = kind === 'program' || kind === 'long-running';
  const args = program
    ? [join(here, 'run-program.mjs'), file]
    : kind === 'node:test'
      ? ['--test', file]
      : [join(cwd, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--config', vitestConfig, '--root', join(file, '..'), file];
  const started = Date.now();
  return new Promise((resolve) => {
    // Its own process group, so that a runner's workers are stopped with it.
    const proc = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe', 'pipe'], detached: true });
    let output = '';
    let finished = false;
    let stopped = false;
    let timedOut = false;
    proc.stdout.on('data', (chunk) => (output += chunk));
    proc.stderr.on('data', (chunk) => (output += chunk));
    let timer = setTimeout(() => {
      timedOut = true;
      stop(proc);
    }, timeoutMs);
    // run-program.mjs writes `finished` to fd 3 once the sample's top-level code has finished.
    proc.stdio[3].on('data', (chunk) => {
      if (finished || !String(chunk).includes('finished')) return;
      finished = true;
      clearTimeout(timer);
      if (kind === 'long-running') {
        stopped = true;
        stop(proc);
        return;
      }
      timer = setTimeout(() => {
        timedOut = true;
        stop(proc);
      }, exitTimeoutMs);
    });
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      const ms = Date.now() - started;
      const ok = stopped || (!timedOut && code === 0 && (finished || !program));
      let note = '';
      if (stopped) note = 'its top-level code finished; then stopped';
      else if (timedOut && finished) note = `its code finished, but the process did not exit within ${exitTimeoutMs / 1000} s: a timer, socket or handle kept it alive`;
      else if (timedOut) note = `did not finish within ${timeoutMs / 1000} s`;
      else if (!ok) note = `exited with ${signal ?? `code ${code}`}${program && !finished ? ' before its top-level code finished' : ''}`;
      resolve({ ok, note, output, ms });
    });
  });
}

/** Kills a child and everything it started (its process group). */
function stop(proc) {
  try {
    process.kill(-proc.pid, 'SIGKILL');
  } catch {
    proc.kill('SIGKILL');
  }
}
