import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

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
const sdkDir = process.env['OPENAI_SDK_DIR'] ? path.resolve(process.env['OPENAI_SDK_DIR']) : undefined;

const sdkManifest = sdkDir && path.join(sdkDir, 'package.json');
if (sdkDir && sdkManifest) {
  if (path.basename(path.dirname(sdkDir)) !== 'node_modules') throw new Error(`OPENAI_SDK_DIR must be <prefix>/node_modules/openai, got ${sdkDir}`);
  if (!existsSync(sdkManifest) || (JSON.parse(readFileSync(sdkManifest, 'utf8')) as { name?: string }).name !== 'openai') {
    throw new Error(`vitest.smoke.config.ts: OPENAI_SDK_DIR=${sdkDir} is not an installed openai package`);
  }
}

export default defineConfig({
  plugins: sdkDir && sdkManifest
    ? [
        {
          // For every importer, `openai` and `openai/<subpath>` are resolved as bare imports made from
          // OPENAI_SDK_DIR/package.json (a file that exists, so vite looks in the node_modules above it), so
          // the SDK's "exports" map and the import conditions apply exactly as for the default copy
          // (index.mjs, streaming.mjs, ...). A plain `resolve.alias` to the package directory is not enough:
          // vite then takes the package's "main" (the CommonJS index.js) for `openai` but the ESM files for
          // subpaths, i.e. two copies of every class (`instanceof Stream` fails).
          name: 'openai-sdk-under-test',
          enforce: 'pre',
          async resolveId(source, _importer, options) {
            if (source !== 'openai' && !source.startsWith('openai/')) return null;
            const resolved = await this.resolve(source, sdkManifest, { ...options, skipSelf: true });
            if (!resolved || !resolved.id.startsWith(sdkDir + path.sep)) {
              throw new Error(`vitest.smoke.config.ts: '${source}' resolved to ${resolved?.id ?? 'nothing'}, outside ${sdkDir}`);
            }
            return resolved;
          },
        },
      ]
    : [],
  test: {
    // SDK_MATRIX_INCLUDE='test/**/*.test.ts' runs the whole suite against that copy instead (exploration only).
    include: [process.env['SDK_MATRIX_INCLUDE'] ?? 'test/smoke/**/*.test.ts'],
    testTimeout: 10_000,
    typecheck: { enabled: false },
    dangerouslyIgnoreUnhandledErrors: false,
  },
});
