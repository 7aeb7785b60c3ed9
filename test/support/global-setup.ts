import { spawnSync } from 'node:child_process';

/**
 * Vitest global setup (vitest.config.ts, vitest.redis.config.ts): the Redis tests (test/redis/) start a
 * real `redis-server` per test (test/support/redis-server.ts), so it must be on PATH. `.ci/run` installs
 * it; for `npm install && npm test` on a fresh machine this installs Debian's `redis-server` package when
 * running as root with apt-get, and otherwise fails at once with how to install it (instead of every
 * Redis test failing on its own with ENOENT).
 */
export default function setup(): void {
  if (redisServerVersion() !== undefined) return;
  const why = canInstall();
  if (why !== undefined) {
    throw new Error(
      `redis-server is not on PATH, and the test setup cannot install it (${why}). The Redis tests (test/redis/) ` +
        'start a real redis-server: install it, e.g. `sudo apt-get install redis-server` (Debian/Ubuntu), ' +
        '`brew install redis` (macOS), then run the tests again.',
    );
  }
  console.info('test setup: redis-server is not on PATH; installing Debian\'s redis-server package (apt-get)...');
  const started = Date.now();
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Another run installing at the same time holds dpkg's lock: wait for it rather than failing.
  const lock = ['-o', 'DPkg::Lock::Timeout=120'];
  for (const args of [['update', '-qq', ...lock], ['install', '-y', '-qq', '--no-install-recommends', ...lock, 'redis-server']]) {
    const result = spawnSync('apt-get', args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 });
    if (result.status !== 0) {
      throw new Error(
        `redis-server is not on PATH, and \`apt-get ${args.join(' ')}\` failed (${result.error?.message ?? `exit ${result.status}`}):\n` +
          `${result.stderr ?? ''}\nInstall Debian's redis-server package yourself, then run the tests again.`,
      );
    }
  }
  const version = redisServerVersion();
  if (version === undefined) throw new Error('apt-get installed redis-server, but `redis-server --version` still does not run (is /usr/bin on PATH?).');
  console.info(`test setup: installed ${version} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** `redis-server --version`'s first line, or undefined when it does not run. */
function redisServerVersion(): string | undefined {
  const result = spawnSync('redis-server', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
  return result.status === 0 ? result.stdout.split('\n')[0]?.trim() : undefined;
}

/** Undefined when this process can install Debian packages, else why not. */
function canInstall(): string | undefined {
  if (process.platform !== 'linux') return `this is ${process.platform}, not Linux with apt-get`;
  if (process.getuid?.() !== 0) return 'not running as root';
  const apt = spawnSync('apt-get', ['--version'], { stdio: 'ignore', timeout: 10_000 });
  if (apt.error || apt.status !== 0) return 'apt-get is not available';
  return undefined;
}
