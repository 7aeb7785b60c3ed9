import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * The Redis tests (test/redis/) against one copy of the `redis` client (node-redis), for .ci/redis-matrix.sh:
 *
 *   REDIS_CLIENT_DIR=.ci/.cache/redis-5/node_modules/redis REDIS_EXPECTED_MAJOR=5 \
 *     node node_modules/vitest/vitest.mjs run --config vitest.redis.config.ts
 *
 * `redis` and every `redis/*` subpath resolve to REDIS_CLIENT_DIR for every importer (the tests and
 * test/support/redis-server.ts; the library itself never imports `redis`), the same way
 * vitest.smoke.config.ts points `openai` at another SDK; anything resolving elsewhere fails the run. Node
 * then loads that copy, and its own `@redis/*` packages next to it. test/redis-client/client-under-test.test.ts
 * checks that exactly that copy was loaded. Without REDIS_CLIENT_DIR the tests run against the project's
 * own devDependency.
 */
const clientDir = process.env['REDIS_CLIENT_DIR'] ? path.resolve(process.env['REDIS_CLIENT_DIR']) : undefined;

const clientManifest = clientDir && path.join(clientDir, 'package.json');
if (clientDir && clientManifest) {
  if (path.basename(path.dirname(clientDir)) !== 'node_modules') throw new Error(`REDIS_CLIENT_DIR must be <prefix>/node_modules/redis, got ${clientDir}`);
  if (!existsSync(clientManifest) || (JSON.parse(readFileSync(clientManifest, 'utf8')) as { name?: string }).name !== 'redis') {
    throw new Error(`vitest.redis.config.ts: REDIS_CLIENT_DIR=${clientDir} is not an installed redis package`);
  }
}

export default defineConfig({
  plugins: clientDir && clientManifest
    ? [
        {
          // Resolved as bare imports made from REDIS_CLIENT_DIR/package.json, so that the package's own
          // entry points and conditions apply as for the default copy (see vitest.smoke.config.ts).
          name: 'redis-client-under-test',
          enforce: 'pre',
          async resolveId(source, _importer, options) {
            if (source !== 'redis' && !source.startsWith('redis/')) return null;
            const resolved = await this.resolve(source, clientManifest, { ...options, skipSelf: true });
            if (!resolved || !resolved.id.startsWith(clientDir + path.sep)) {
              throw new Error(`vitest.redis.config.ts: '${source}' resolved to ${resolved?.id ?? 'nothing'}, outside ${clientDir}`);
            }
            return resolved;
          },
        },
      ]
    : [],
  test: {
    include: ['test/redis/**/*.test.ts', 'test/redis-client/**/*.test.ts'],
    testTimeout: 10_000,
    globalSetup: ['test/support/global-setup.ts'],
    typecheck: { enabled: false },
    dangerouslyIgnoreUnhandledErrors: false,
  },
});
