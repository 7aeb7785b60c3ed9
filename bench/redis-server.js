// A redis-server on loopback for the bench cases that need one (redis, classes): started in a temporary
// directory with no persistence, stopped (and the directory removed) by `stop()`.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A redis-server on 127.0.0.1 (no persistence) in a temporary directory; `stop()` ends it and removes the directory. */
export async function startRedis() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'openai-resilient-bench-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    await new Promise((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => reject(new Error(`redis-server did not start within 5 s: ${output}`)), 5_000);
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error.code === 'ENOENT'
          ? new Error("redis-server is not on PATH: install Debian's redis-server package (`npm test` does it when run as root)")
          : error);
      });
      child.stdout.on('data', (chunk) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const version = await new Promise((resolve) => {
    const v = spawn('redis-server', ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    v.stdout.on('data', (chunk) => (out += chunk.toString()));
    v.once('close', () => resolve(/v=(\S+)/.exec(out)?.[1] ?? 'unknown'));
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    version,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
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
