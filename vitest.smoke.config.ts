import { defineConfig } from 'vitest/config';
import { packageUnderTest } from './test/support/package-under-test.js';

/**
 * The smoke suite (test/smoke/) against one copy of the `openai` SDK, for .ci/sdk-matrix.sh:
 *
 *   OPENAI_SDK_DIR=.ci/.cache/openai-5/node_modules/openai OPENAI_EXPECTED_MAJOR=5 \
 *     node node_modules/vitest/vitest.mjs run --config vitest.smoke.config.ts
 *
 * `openai` and every `openai/*` subpath resolve to OPENAI_SDK_DIR for every importer: the tests, the test
 * harness and the library's own source (src/ imports its error classes from 'openai'); anything resolving
 * elsewhere fails the run. The SDK is then loaded by Node from that directory (vitest externalizes it like
 * any package), so exactly one copy is in play; test/smoke/sdk-under-test.test.ts checks it.
 * Without OPENAI_SDK_DIR the suite runs against the project's own devDependency.
 */
export default defineConfig({
  plugins: packageUnderTest('openai', process.env['OPENAI_SDK_DIR'], 'vitest.smoke.config.ts'),
  test: {
    // SDK_MATRIX_INCLUDE='test/**/*.test.ts' runs the whole suite against that copy instead (exploration only).
    include: [process.env['SDK_MATRIX_INCLUDE'] ?? 'test/smoke/**/*.test.ts'],
    testTimeout: 10_000,
    typecheck: { enabled: false },
    // expect.poll() waits for something that will happen (a write landing, a socket closing): give it time
    // on a loaded machine (the default is 1 s).
    expect: { poll: { timeout: 5_000 } },
    dangerouslyIgnoreUnhandledErrors: false,
  },
});
