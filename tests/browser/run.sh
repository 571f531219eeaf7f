#!/usr/bin/env bash
# Browser tests of the web front end: Node unit tests of the pure modules, then Playwright (Debian's
# Chromium) against the real uyoop-cal binary. Installs what it needs. Entry point for CI.
#   UYOOP_BIN      server binary (default target/debug/uyoop-cal, built by the caller)
#   UYOOP_BASE_URL run against an already running server instead of starting one
#   E2E=0          unit tests only
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../infra/lib.sh
. "$HERE/../infra/lib.sh"
cd "$HERE"

command -v node >/dev/null 2>&1 || ensure_apt node nodejs
command -v npm >/dev/null 2>&1 || ensure_apt npm npm

log "browser unit tests (node --test)"
node --test unit/

if [[ ${E2E:-1} == 0 ]]; then
  log "E2E=0: skipping Playwright"
  exit 0
fi

ensure_apt chromium chromium
export CHROMIUM_PATH=${CHROMIUM_PATH:-$(command -v chromium)}
if [[ ! -d node_modules/@playwright/test ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  log "npm ci (tests/browser)"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
fi

if [[ -z ${UYOOP_BASE_URL:-} ]]; then
  BIN=${UYOOP_BIN:-target/debug/uyoop-cal}
  [[ $BIN = /* ]] || BIN=$REPO_ROOT/$BIN
  [[ -x $BIN ]] || die "server binary $BIN not found: build it first (cargo build -p uyoop-cal) or set UYOOP_BIN"
  export UYOOP_BIN=$BIN
fi

rm -rf artifacts && mkdir -p artifacts
log "Playwright e2e (Chromium $("$CHROMIUM_PATH" --version 2>/dev/null | awk '{print $2}'))"
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npx playwright test "$@"
log "screenshots and reports in tests/browser/artifacts/"
