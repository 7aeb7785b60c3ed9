#!/usr/bin/env bash
# The Redis tests (test/redis/, and test/redis-client/ which checks the copy loaded) against the other major
# of node-redis that the `redis` peer range (>=5.0.0 <7.0.0) claims: the latest 5.x, installed from the npm
# registry into .ci/.cache/redis-<spec>/. vitest.redis.config.ts resolves `redis` (and `redis/*`) to that
# copy for the tests and test/support/redis-server.ts (the library itself never imports `redis`). Each test
# starts its own redis-server (Debian's, installed by .ci/run or the vitest global setup).
# (redis 6, the devDependency, runs in `npm test` and the Node matrix.)
#
#   REDIS_MATRIX="5" REDIS_MATRIX_NODES="current" bash .ci/redis-matrix.sh   # the defaults
#
# A client spec is a major (its latest release) or an exact version ("5.0.0"); a Node spec as in
# .ci/node-matrix.sh, or "current" for the Node on PATH.
# Every cell runs even if one fails; the script exits 1 if any failed.
set -euo pipefail
source "$(dirname "$0")/matrix-lib.sh"
cd "$MATRIX_ROOT"

matrix_package_grid redis "${REDIS_MATRIX:-5}" "${REDIS_MATRIX_NODES:-current}" \
  REDIS_CLIENT_DIR REDIS_EXPECTED_MAJOR vitest.redis.config.ts "Redis tests"

matrix_finish "Redis client matrix"
