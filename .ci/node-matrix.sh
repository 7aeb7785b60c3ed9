#!/usr/bin/env bash
# The whole vitest suite (with the project's own openai devDependency) on other Node versions, each
# installed from the npm registry's `node` package into .ci/.cache/node-<spec>/. With a build in dist/,
# `npm run test:node` (the node:test example, against dist/) runs on each version too.
#
#   NODE_MATRIX="22.12.0 24 26" bash .ci/node-matrix.sh     # the default: the `engines` floor, 24 (LTS), 26 (current)
#
# A spec is a major (the latest release of that line), a minor or an exact version. Every cell runs even
# if one fails; the script exits 1 if any failed. The machine's own Node is covered by `npm test` (Node 20
# on the CI machine: below the floor, run as a check that nothing breaks there, not a promise).
set -euo pipefail
source "$(dirname "$0")/matrix-lib.sh"
cd "$MATRIX_ROOT"

read -r -a specs <<<"${NODE_MATRIX:-22.12.0 24 26}"

for spec in "${specs[@]}"; do
  bin="$(matrix_node_bin "$spec")"
  version="$("$bin" -p 'process.version')"
  # The binary's directory goes first on PATH, so that whatever the suite spawns as `node` (and npm
  # itself) runs on this Node too. MATRIX_NODE_VERSION makes test/smoke/sdk-under-test.test.ts check
  # that the test workers really run on it.
  path="$(dirname "$bin"):$PATH"
  matrix_header "Node $version (node@$spec): vitest run"
  printf 'node binary: %s\nprocess.version of `node` on PATH: %s\n' "${bin#"$MATRIX_ROOT"/}" "$(PATH="$path" node -p 'process.version')"
  matrix_run "Node $version: vitest run" env PATH="$path" MATRIX_NODE_VERSION="$version" "$bin" "$VITEST" run
  if [[ -f dist/index.js ]]; then
    matrix_header "Node $version (node@$spec): npm run test:node"
    matrix_run "Node $version: npm run test:node" env PATH="$path" npm run --silent test:node
  else
    printf '(no dist/: npm run test:node skipped; run npm run build first to include it)\n'
  fi
done

matrix_finish "Node matrix"
