import { fork } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { faults, startFaultServer } from '../../src/testing/index.js';

const SOURCE = fileURLToPath(new URL('./fixtures/exit-child.ts', import.meta.url));
const OUT_DIR = fileURLToPath(new URL('../../node_modules/.cache/openai-resilient-test/', import.meta.url));
/** Far below the child's timeout.idle (60 s), far above what any exit takes on a loaded machine. */
const EXIT_BOUND_MS = 15_000;

/** Runs the child on `subject`; resolves with whether it exited by itself within EXIT_BOUND_MS of its work being done. */
async function exitsByItself(bundle: string, baseURL: string, subject: 'bare' | 'resilient'): Promise<boolean> {
  const child = fork(bundle, [baseURL, subject], { execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`the ${subject} child exited with ${code} before its work was done`)));
  });
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    child.kill('SIGKILL');
  }, EXIT_BOUND_MS);
  await exited;
  clearTimeout(timer);
  return !killed;
}

describe('process lifetime', () => {
  it('a process that dropped a stream read in part exits as promptly as with the bare SDK', { timeout: 60_000 }, async () => {
    mkdirSync(OUT_DIR, { recursive: true });
    const bundle = `${OUT_DIR}exit-child-${process.pid}-${Date.now().toString(36)}.mjs`;
    await build({
      entryPoints: [SOURCE], outfile: bundle, bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'error',
      banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    });
    const server = await startFaultServer();
    try {
      // Chunks 30 ms apart, then [DONE]: the child waits for some of them, and leaves the rest unread.
      server.enqueue(faults.stream({ chunks: 8, intervalMs: 30 }), faults.stream({ chunks: 8, intervalMs: 30 }));
      expect(await exitsByItself(bundle, server.url, 'bare')).toBe(true);
      expect(await exitsByItself(bundle, server.url, 'resilient')).toBe(true);
    } finally {
      await server.close();
      rmSync(bundle, { force: true });
    }
  });
});
