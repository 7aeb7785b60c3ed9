#!/usr/bin/env bash
# Proves the published package works for every kind of consumer, from the packed tarball:
#   1. builds (unless --no-build) and packs the library once (npm pack);
#   2. checks the tarball's contents (.ci/check-tarball.mjs);
#   3. publint and @arethetypeswrong/cli on that tarball (pinned versions, through npx);
#   4. installs the tarball with openai@7 (the peer) into fresh directories outside the repository
#      (so that nothing resolves from this repository's node_modules) and runs, in parallel:
#        esm              node consumer.mjs (import, openai-resilient/redis without `redis` installed, counting
#                         without `gpt-tokenizer`), and the bin
#        cjs              node consumer.cjs (require(esm), Node.js >= 22.12; openai-resilient/redis too)
#        ts-nodenext      tsc (skipLibCheck false) + run, "type": "module", module/moduleResolution nodenext
#        ts-node16        the same under node16
#        ts-bundler       the same under module esnext, moduleResolution bundler
#        ts-nodenext-cjs  a CommonJS TypeScript app (no "type": "module") under nodenext
#        ts7-*            the same four with TypeScript 7 (`typescript@7`, the native compiler)
#      The TypeScript consumers (TypeScript 5.9 and 7) also install redis@6, gpt-tokenizer@4 and
#      @pydantic/genai-prices@0.1 (optional peers), type-check createRedisState() with its client and run
#      openai-resilient/tokens and openai-resilient/prices; the esm
#      consumer has no gpt-tokenizer, and checks that counting falls back to the estimate. The fixtures
#      are in test/consumers/.
# Fails on any problem. Options: --no-build (dist/ is already built), --keep (keep the temp dir).
# Needs the npm registry (installs use the npm cache first: --prefer-offline).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

PUBLINT_VERSION=0.3.25
ATTW_VERSION=0.18.5
# Every TypeScript consumer runs with each of these: the last JavaScript-based compiler and the native one.
TYPESCRIPT_VERSION=5.9
TYPESCRIPT_NATIVE_VERSION=7
OPENAI_VERSION=7
OTEL_API_VERSION=1
REDIS_VERSION=6
GPT_TOKENIZER_VERSION=4
GENAI_PRICES_VERSION=0.1
TYPES_NODE_VERSION=22   # the `engines` floor's major
# Consumers whose type check is known to fail (the reason is printed); their runtime must still pass.
# None today: ts-nodenext-cjs passes since resilient() accepts any OpenAIClientLike (a CommonJS TypeScript
# app sees the SDK's CommonJS declarations, a distinct OpenAI class from the ESM ones we import).
KNOWN_TYPE_FAILURES=" "

BUILD=1
KEEP=0
for arg in "$@"; do
  case "$arg" in
    --no-build) BUILD=0 ;;
    --keep) KEEP=1 ;;
    *) echo "usage: $0 [--no-build] [--keep]" >&2; exit 2 ;;
  esac
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/openai-resilient-consumers.XXXXXX")
cleanup() { if [ "$KEEP" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT

now() { date +%s%N; }
since() { echo "$(( ($(now) - $1) / 1000000 ))"; }   # ms since $1
fmt() { awk -v ms="$1" 'BEGIN { printf "%.1fs", ms / 1000 }'; }
T0=$(now)
SUMMARY=()
step() { SUMMARY+=("$(printf '%-18s %-6s %8s  %s' "$1" "$2" "$(fmt "$3")" "${4:-}")"); }
die() {
  echo "consumers: FAILED: $*" >&2
  if [ "${#SUMMARY[@]}" -gt 0 ]; then printf '  %s\n' "${SUMMARY[@]}" >&2; fi
  exit 1
}
quiet_npm() { npm "$@" --no-audit --no-fund --prefer-offline --loglevel=error; }

echo "consumers: node $(node --version), npm $(npm --version), work dir $WORK"

# 1. Build and pack.
t=$(now)
if [ "$BUILD" = 1 ]; then npm run --silent build || die "npm run build"; fi
[ -f dist/index.js ] || die "dist/ is not built (run npm run build, or drop --no-build)"
npm pack --json --pack-destination "$WORK" --loglevel=error >"$WORK/pack.json" || die "npm pack"
TARBALL="$WORK/$(node -p 'require(process.argv[1])[0].filename' "$WORK/pack.json")"
[ -f "$TARBALL" ] || die "npm pack made no $TARBALL"
step build+pack ok "$(since "$t")" "$(basename "$TARBALL")"

# 2. Contents.
t=$(now)
mkdir "$WORK/extracted"
tar -xzf "$TARBALL" -C "$WORK/extracted"
node .ci/check-tarball.mjs "$WORK/pack.json" "$WORK/extracted" "$ROOT" || die "tarball contents (above)"
step tarball ok "$(since "$t")" "$(node -p 'const [p] = require(process.argv[1]); `${p.entryCount} files, ${(p.size / 1024).toFixed(0)} kB`' "$WORK/pack.json")"

# 3. publint and attw, on the same tarball. publint must say "All good!" (no error, warning or
#    suggestion). attw runs with the esm-only profile: the package is ESM only, so TypeScript's
#    node10 resolution (which ignores "exports": no subpaths) and node16-from-CommonJS (which models
#    require() of ESM as an error, unlike Node.js >= 22.12 (and 20.19) and TypeScript >= 5.8 under nodenext) are
#    not supported resolutions; the cjs and ts-nodenext-cjs consumers below test require() for real.
t=$(now)
npx -y "publint@$PUBLINT_VERSION" run "$TARBALL" --strict >"$WORK/publint.log" 2>&1 || { cat "$WORK/publint.log"; die "publint"; }
grep -v 'Unknown user config' "$WORK/publint.log" | sed 's/^/  /'
grep -q 'All good!' "$WORK/publint.log" || die "publint reported something (above)"
step publint ok "$(since "$t")" "publint@$PUBLINT_VERSION run --strict"

t=$(now)
npx -y "@arethetypeswrong/cli@$ATTW_VERSION" "$TARBALL" --profile esm-only --no-color --format table >"$WORK/attw.log" 2>&1 || {
  cat "$WORK/attw.log"
  die "attw"
}
grep -v 'Unknown user config' "$WORK/attw.log" | sed 's/^/  /'
step attw ok "$(since "$t")" "attw@$ATTW_VERSION --profile esm-only"

# 4. Consumers, in parallel. Each writes $WORK/<name>.log and $WORK/<name>.status (ok|known|fail).
consumer_dir() {
  local name=$1 type=$2
  local dir="$WORK/$name"
  mkdir -p "$dir"
  (cd "$dir" && npm init -y >/dev/null && npm pkg set "type=$type" && npm pkg set private=true --json)
}

run_esm() {
  local dir=$WORK/esm
  consumer_dir esm module
  cp test/consumers/esm/consumer.mjs "$dir/"
  cd "$dir"
  quiet_npm install "$TARBALL" "openai@$OPENAI_VERSION"
  node consumer.mjs
  # The bin, from the tarball: --help, and a short demo whose JSON must parse.
  ./node_modules/.bin/openai-resilient --help >help.txt
  sed -n 1p help.txt
  ./node_modules/.bin/openai-resilient demo --seconds 2 --json >demo.json
  node -e '
    const d = JSON.parse(require("fs").readFileSync("demo.json", "utf8"));
    if (!(d.resilient.calls > 0 && d.bare.calls > 0)) throw new Error("demo: no calls");
    console.log(`bin: demo --seconds 2 --json: bare ${d.bare.successes}/${d.bare.calls}, resilient ${d.resilient.successes}/${d.resilient.calls} successes`);
  '
}

run_cjs() {
  local dir=$WORK/cjs
  consumer_dir cjs commonjs
  cp test/consumers/cjs/consumer.cjs "$dir/"
  cd "$dir"
  quiet_npm install "$TARBALL" "openai@$OPENAI_VERSION" "@opentelemetry/api@$OTEL_API_VERSION"
  node consumer.cjs 2>stderr.log || { cat stderr.log >&2; return 1; }
  # require(esm) must load without an ExperimentalWarning or any other noise.
  if [ -s stderr.log ]; then echo "unexpected stderr:" >&2; cat stderr.log >&2; return 1; fi
}

# run_ts <name> <package type> <source> <typescript version>: the tsconfig comes from test/consumers/<name>/
# (a ts7-* consumer uses its ts-* twin's).
run_ts() {
  local name=$1 type=$2 source=$3 typescript=$4
  local dir=$WORK/$name
  consumer_dir "$name" "$type"
  cp "test/consumers/${name/#ts7-/ts-}/tsconfig.json" "$dir/"
  cp "$source" "$dir/index.ts"
  cd "$dir"
  quiet_npm install "$TARBALL" "openai@$OPENAI_VERSION" "@opentelemetry/api@$OTEL_API_VERSION" "redis@$REDIS_VERSION" \
    "gpt-tokenizer@$GPT_TOKENIZER_VERSION" "@pydantic/genai-prices@$GENAI_PRICES_VERSION" "typescript@$typescript" "@types/node@$TYPES_NODE_VERSION"
  echo "typescript $(npx tsc --version), $(node -p 'const c = require("./tsconfig.json").compilerOptions; `module ${c.module}, moduleResolution ${c.moduleResolution}, skipLibCheck ${c.skipLibCheck}`'), package type $type"
  # One tsc run type-checks (the verdict on types) and emits out/ even on a type error; then run it.
  local typecheck=ok
  npx tsc -p . || typecheck=fail
  node out/index.js
  if [ "$typecheck" = fail ]; then
    if [[ "$KNOWN_TYPE_FAILURES" == *" $name "* ]]; then echo "KNOWN: type check fails (see .ci/consumers.sh)"; return 3; fi
    return 1
  fi
  if [[ "$KNOWN_TYPE_FAILURES" == *" $name "* ]]; then echo "NOW PASSES: remove $name from KNOWN_TYPE_FAILURES in .ci/consumers.sh"; fi
}

spawn() {
  local name=$1
  shift
  (
    set -euo pipefail
    start=$(now)
    set +e
    ( set -euo pipefail; "$@" ) >"$WORK/$name.log" 2>&1
    rc=$?
    set -e
    case $rc in 0) status=ok ;; 3) status=known ;; *) status=fail ;; esac
    echo "$status $(since "$start")" >"$WORK/$name.status"
  ) &
  PIDS+=("$!")
}

CONSUMERS=(esm cjs)
PIDS=()
t=$(now)
spawn esm run_esm
spawn cjs run_cjs
for prefix in ts ts7; do
  if [ "$prefix" = ts7 ]; then typescript=$TYPESCRIPT_NATIVE_VERSION; else typescript=$TYPESCRIPT_VERSION; fi
  for variant in nodenext node16 bundler; do
    CONSUMERS+=("$prefix-$variant")
    spawn "$prefix-$variant" run_ts "$prefix-$variant" module test/consumers/ts/index.ts "$typescript"
  done
  CONSUMERS+=("$prefix-nodenext-cjs")
  spawn "$prefix-nodenext-cjs" run_ts "$prefix-nodenext-cjs" commonjs test/consumers/ts-nodenext-cjs/index.ts "$typescript"
done
for pid in "${PIDS[@]}"; do wait "$pid" || true; done
CONSUMERS_MS=$(since "$t")

FAILED=()
for name in "${CONSUMERS[@]}"; do
  read -r status ms <"$WORK/$name.status" || { status=fail; ms=0; }
  echo "--- $name: $status"
  grep -v 'Unknown user config' "$WORK/$name.log" | sed 's/^/  /'
  case $status in
    ok) step "$name" ok "$ms" "$(grep -m1 -o 'consumer: ok.*' "$WORK/$name.log" || true)" ;;
    known) step "$name" known "$ms" "runs; type check fails as known (KNOWN_TYPE_FAILURES)" ;;
    *) step "$name" FAIL "$ms" "see the log above"; FAILED+=("$name") ;;
  esac
done
step "consumers (wall)" "" "$CONSUMERS_MS" "${#CONSUMERS[@]} in parallel"

echo
echo "consumers: summary"
printf '  %s\n' "${SUMMARY[@]}"
echo "  total              $(fmt "$(since "$T0")")"
if [ "${#FAILED[@]}" -gt 0 ]; then
  echo "consumers: FAILED: ${FAILED[*]}" >&2
  exit 1
fi
echo "consumers: all checks passed"
