#!/usr/bin/env bash
# Browser test: the core of openai-resilient wrapping the real `openai` SDK in headless Chromium
# (Debian's chromium driven by playwright-core), against loopback fault servers with CORS.
# Installs Chromium from Debian when /usr/bin/chromium is missing (as root, or with sudo), then runs
# test/browser/run.mjs, which bundles the page with esbuild and needs `npm ci` to have run.
set -euo pipefail
cd "$(dirname "$0")/.."

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
  elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo -n)
  else
    echo "browser.sh: $CHROMIUM is missing, and this is neither root nor has sudo: install Debian's chromium package" >&2
    exit 1
  fi
  echo "browser.sh: installing Debian's chromium"
  start=$(date +%s)
  export DEBIAN_FRONTEND=noninteractive
  timeout 600 "${SUDO[@]}" apt-get update -qq
  timeout 600 "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  echo "browser.sh: chromium installed in $(( $(date +%s) - start )) s"
fi
# The Debian launcher script prints a harmless shell warning on some machines; keep only the version.
echo "browser.sh: $("$CHROMIUM" --version 2>/dev/null)"

if [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/esbuild ]; then
  echo "browser.sh: node_modules/playwright-core or node_modules/esbuild is missing: run npm ci first" >&2
  exit 1
fi

export CHROMIUM
timeout 300 node test/browser/run.mjs
