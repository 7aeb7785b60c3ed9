#!/usr/bin/env bash
# The smoke suite (test/smoke/) against the latest openai 5.x and 6.x, and against the first releases of
# 6 and 7 (the floors of the peer range above 5.x's last line), each installed from the npm registry into
# .ci/.cache/openai-<spec>/, on the machine's Node and on the Node versions of the Node matrix.
# vitest.smoke.config.ts resolves `openai` (and `openai/*`) to that copy for the tests, the test harness
# and the library's source alike; test/smoke/sdk-under-test.test.ts fails if any other copy is loaded.
# (openai 7, the devDependency, runs the whole suite, smoke tests included, in `npm test` and the Node matrix.)
#
#   SDK_MATRIX="5 6 6.0.0 7.0.0" SDK_MATRIX_NODES="current 20.19.0 22 24" bash .ci/sdk-matrix.sh   # the defaults
#
# An SDK spec is a major (its latest release) or an exact version ("5.0.0"); a Node spec as in
# .ci/node-matrix.sh, or "current" for the Node on PATH.
# Every cell runs even if one fails; the script exits 1 if any failed.
set -euo pipefail
source "$(dirname "$0")/matrix-lib.sh"
cd "$MATRIX_ROOT"

read -r -a sdk_specs <<<"${SDK_MATRIX:-5 6 6.0.0 7.0.0}"
read -r -a node_specs <<<"${SDK_MATRIX_NODES:-current 20.19.0 22 24}"

node_bins=()
for spec in "${node_specs[@]}"; do node_bins+=("$(matrix_node_bin "$spec")"); done

for spec in "${sdk_specs[@]}"; do
  sdk="$(matrix_sdk_dir "$spec")"
  sdk_version="$(matrix_installed_version "${sdk%/node_modules/openai}" openai)"
  for bin in "${node_bins[@]}"; do
    version="$("$bin" -p 'process.version')"
    matrix_header "openai $sdk_version × Node $version: smoke suite"
    printf 'openai: %s\nnode binary: %s\nprocess.version: %s\n' "${sdk#"$MATRIX_ROOT"/}" "$bin" "$version"
    matrix_run "openai $sdk_version × Node $version: smoke" \
      env PATH="$(dirname "$bin"):$PATH" MATRIX_NODE_VERSION="$version" OPENAI_SDK_DIR="$sdk" OPENAI_EXPECTED_MAJOR="${spec%%.*}" \
      "$bin" "$VITEST" run --config vitest.smoke.config.ts
  done
done

matrix_finish "SDK matrix"
