// Runs one documentation sample (a module) for scripts/run-doc-samples.mjs: `node run-program.mjs <file>`.
// Once the sample's top-level code has finished, writes `finished` to file descriptor 3, so that the runner
// can tell a sample that never finishes from one that finishes but keeps the process alive.
import { closeSync, writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

await import(pathToFileURL(process.argv[2]).href);
try {
  writeSync(3, 'finished\n');
  closeSync(3);
} catch {
  // Run without the runner's pipe: nothing to tell.
}
