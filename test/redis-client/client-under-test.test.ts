import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createClient } from 'redis';
import { describe, expect, it } from 'vitest';
import { createRedisState } from '../../src/redis/index.js';
import { startRedisServer } from '../support/redis-server.js';

/**
 * Which copy of `redis` (node-redis) this run loaded. Under .ci/redis-matrix.sh, REDIS_CLIENT_DIR names the
 * copy that vitest.redis.config.ts resolves `redis` to and REDIS_EXPECTED_MAJOR its major; in the default
 * suite it is the project's own devDependency. If the alias missed an importer, the checks below fail
 * instead of the matrix silently testing the default copy.
 */
const clientDirEnv = process.env['REDIS_CLIENT_DIR'];
const expectedMajor = process.env['REDIS_EXPECTED_MAJOR'];
/** Set by the .ci matrices: the `process.version` the test workers must run on. */
const expectedNode = process.env['MATRIX_NODE_VERSION'];
const require = createRequire(import.meta.url);
const clientDir = clientDirEnv ? path.resolve(clientDirEnv) : path.dirname(require.resolve('redis/package.json'));
const version = (dir: string) => (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;

describe('the redis client under test', () => {
  it('is the intended copy and major, with its own @redis/client', () => {
    const expected = version(clientDir);
    // node-redis is CommonJS: Node loads it (and @redis/*) through require, so its files are in require.cache.
    const loaded = Object.keys(require.cache);
    const entries = loaded.filter((file) => /[/\\]node_modules[/\\]redis[/\\]dist[/\\]index\.js$/.test(file));
    const clients = new Set(loaded.filter((file) => /[/\\]node_modules[/\\]@redis[/\\]client[/\\]/.test(file)).map((file) => file.slice(0, file.indexOf('@redis') + '@redis/client'.length)));
    console.info(`redis ${expected} (${clientDirEnv ?? 'devDependency'}), @redis/client ${[...clients].map(version).join(', ')} on Node ${process.version}`);
    expect(entries).toEqual([path.join(clientDir, 'dist', 'index.js')]);
    expect([...clients]).toEqual([path.join(path.dirname(clientDir), '@redis', 'client')]);
    expect(version([...clients][0]!).split('.')[0]).toBe(expected.split('.')[0]);
    if (expectedMajor !== undefined) expect(expected.split('.')[0]).toBe(expectedMajor);
    if (clientDirEnv) expect(expectedMajor, 'REDIS_EXPECTED_MAJOR must be set with REDIS_CLIENT_DIR').toBeDefined();
  });

  it('runs on the intended Node', () => {
    if (expectedNode !== undefined) expect(process.version).toBe(expectedNode);
  });

  it('is a RedisClientLike: EVALSHA, EVAL and a NOSCRIPT error the library recognises, through createRedisState', async () => {
    const server = await startRedisServer();
    const client = createClient({ url: server.url });
    client.on('error', () => undefined);
    await client.connect();
    try {
      const options = { keys: ['k'], arguments: ['41'] };
      const script = "return tonumber(ARGV[1]) + 1";
      expect(await client.eval(script, options)).toBe(42);
      await expect(client.evalSha('0'.repeat(40), options)).rejects.toThrow(/NOSCRIPT/);
      // The library's own use of it: a shared circuit through the client of this copy.
      const shared = createRedisState(client, { prefix: 'under-test:' });
      expect(shared.ready).toBe(true);
      expect(await shared.circuitAdmit('m', 1)).toEqual({ state: 'closed' });
      // The per-tenant and retry-budget scripts, whose replies are plain integers.
      expect(await shared.tenantReserve('acct:t:m', 60, 1)).toBe(0);
      expect(await shared.slotTake('t', 'lease', 1)).toBe(30_000);
      expect(await shared.slotTake('t', 'other', 1)).toBe(0);
      await shared.slotRelease('t', 'lease');
      await shared.budgetCalls('acct', 1, 60_000);
      expect(await shared.budgetRetry('acct', { ratio: 0, minRetries: 1, window: 60_000 })).toBe(true);
    } finally {
      client.destroy();
    }
  });
});
