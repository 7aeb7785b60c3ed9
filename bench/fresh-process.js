// Runs a bench file as a script in a fresh Node process: a case that must not share its heap (memory) or
// its JIT state (overhead) with the rest of the run measures there.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Runs `moduleUrl` (a bench file's `import.meta.url`) with `nodeArgs` (for Node) and `args` (for the script);
 * resolves to what it wrote on stdout when `capture` is set (else its output goes to ours), and rejects if it fails.
 * @param {string} moduleUrl
 * @param {{ nodeArgs?: string[], args?: string[], capture?: boolean }} [options]
 * @returns {Promise<string>}
 */
export async function runInFreshProcess(moduleUrl, { nodeArgs = [], args = [], capture = false } = {}) {
  const file = fileURLToPath(moduleUrl);
  const child = spawn(process.execPath, [...nodeArgs, file, ...args], { stdio: ['ignore', capture ? 'pipe' : 'inherit', 'inherit'] });
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (text) => (output += text));
  const code = await new Promise((resolve, reject) => child.once('error', reject).once('close', resolve));
  if (code !== 0) throw new Error(`${file}: the measuring process exited with ${code}`);
  return output;
}

/** Whether `moduleUrl` is the file this process was started with (it runs as a fresh process's script). */
export const isScript = (moduleUrl) => process.argv[1] === fileURLToPath(moduleUrl);
