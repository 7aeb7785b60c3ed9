#!/usr/bin/env bash
# The smoke suite (test/smoke/) against the latest openai 5.x and 6.x, and against the first releases of
# 6 and 7 (the floors of the peer range above 5.x's last line), each installed from the npm registry into
# .ci/.cache/openai-<spec>/, on the machine's Node and on the Node versions of the Node matrix.
# vitest.smoke.config.ts resolves `openai` (and `openai/*`) to that copy for the tests, the test harness
# and the library's source alike; test/smoke/sdk-under-test.test.ts fails if any other copy is loaded.
# (openai 7, the devDependency, runs the whole suite, smoke tests included, in `npm test` and the Node matrix.)
#
#   SDK_MATRIX="5 6 6.0.0 7.0.0" SDK_MATRIX_NODES="current 22.12.0 24 26" bash .ci/sdk-matrix.sh   # the defaults
#
# An SDK spec is a major (its latest release) or an exact version ("5.0.0"); a Node spec as in
# .ci/node-matrix.sh, or "current" for the Node on PATH.
# Every cell runs even if one fails; the script exits 1 if any failed.
set -euo pipefail
source "$(dirname "$0")/matrix-lib.sh"
cd "$MATRIX_ROOT"

matrix_package_grid openai "${SDK_MATRIX:-5 6 6.0.0 7.0.0}" "${SDK_MATRIX_NODES:-current 22.12.0 24 26}" \
  OPENAI_SDK_DIR OPENAI_EXPECTED_MAJOR vitest.smoke.config.ts "smoke suite"

matrix_finish "SDK matrix"
