// Installs the alternatives (bench/subjects/alternatives/: the Vercel AI SDK, LangChain.js) on demand, with
// `npm ci` from their own lockfile, so that they never enter the library's dependencies or its root
// lockfile. Cached: a marker in their node_modules holds the hash of the lockfile installed, and `npm ci`
// runs again only when the lockfile changed (or node_modules went away).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const PACKAGE = new URL('./alternatives/', import.meta.url);
const LOCKFILE = new URL('package-lock.json', PACKAGE);
const MARKER = new URL('node_modules/.bench-installed', PACKAGE);

async function readOrUndefined(url) {
  try {
    return await readFile(url, 'utf8');
  } catch (error) {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Runs `npm ci` in bench/subjects/alternatives/ unless its lockfile is already what is installed there. */
export async function ensureAlternativesInstalled() {
  const lockHash = createHash('sha256').update(await readFile(LOCKFILE)).digest('hex');
  if ((await readOrUndefined(MARKER))?.trim() === lockHash) return;
  const folder = fileURLToPath(PACKAGE);
  console.log(`   installing the alternatives for the benchmark: npm ci --prefix ${folder} ...`);
  // No install scripts: none of these packages needs one. The npm of the Node running the bench.
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['ci', '--prefix', folder, '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (result.status !== 0) {
    throw new Error(
      `bench: \`npm ci\` of the alternatives failed (${result.error?.message ?? `exit ${result.status}`}); it needs the npm registry once. ` +
        'Run only the bare SDK and resilient() with BENCH_SUBJECTS=bare,resilient.',
    );
  }
  await writeFile(MARKER, `${lockHash}\n`);
}
