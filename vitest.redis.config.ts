import { defineConfig } from 'vitest/config';
import { packageUnderTest } from './test/support/package-under-test.js';

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
export default defineConfig({
  plugins: packageUnderTest('redis', process.env['REDIS_CLIENT_DIR'], 'vitest.redis.config.ts'),
  test: {
    include: ['test/redis/**/*.test.ts', 'test/redis-client/**/*.test.ts'],
    testTimeout: 10_000,
    globalSetup: ['test/support/global-setup.ts'],
    typecheck: { enabled: false },
    // expect.poll() waits for something that will happen (a write landing, a socket closing): give it time
    // on a loaded machine (the default is 1 s).
    expect: { poll: { timeout: 5_000 } },
    dangerouslyIgnoreUnhandledErrors: false,
  },
});
