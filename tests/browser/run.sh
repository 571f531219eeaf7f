#!/usr/bin/env bash
# Browser tests of the web front end, the CI entry point (scripts/test.sh's `browser` stage):
#   1. installs what it needs on a clean Debian machine (Node >= 20 and npm, Debian's chromium, the
#      npm packages with PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1: no browser download),
#   2. Node unit tests of the front-end modules and of the harness (node --test),
#   3. Playwright (Debian's Chromium) against the real uyoop-cal binary: global-setup.mjs starts it on a
#      free port with a fresh SQLite database and seeds accounts through the API; axe-core, screenshots
#      and Lighthouse are part of the specs,
# and ends with a summary; exits non-zero when anything failed.
#   UYOOP_BIN      server binary (default target/debug/uyoop-cal, built by the caller)
#   UYOOP_BASE_URL run against an already running server (fresh database, rate limits off) instead
#   E2E=0          unit tests only
#   extra arguments go to `playwright test` (e.g. a spec name)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../infra/lib.sh
. "$HERE/../infra/lib.sh"
cd "$HERE"

started=$SECONDS
unit_result="not run"
e2e_result="not run"
rc=0
# shellcheck disable=SC2317 # called by the EXIT trap
summary() {
  local code=$?
  ((code == 0)) || rc=$code
  echo "------------------------------------------------------------------"
  echo "browser tests: unit: $unit_result; e2e: $e2e_result ($((SECONDS - started)) s)"
  local waiting
  waiting=$(sed -n 's|^  "\*\*/\([^"]*\)", // \(.*\)$|  - \1: \2|p' playwright.config.mjs)
  if [[ -n $waiting ]]; then
    echo "not run yet (waiting for an API, see playwright.config.mjs):"
    echo "$waiting"
  else
    echo "every spec ran (none waiting for an API in playwright.config.mjs)"
  fi
  echo "artifacts (screenshots, Lighthouse, server log): tests/browser/artifacts/"
  if ((rc == 0)); then echo "browser tests: PASSED"; else echo "browser tests: FAILED"; fi
  exit "$rc"
}
trap summary EXIT

# Node: Playwright 1.5x needs Node 20 or later.
command -v node >/dev/null 2>&1 || ensure_apt node nodejs
command -v npm >/dev/null 2>&1 || ensure_apt npm npm
node_major=$(node -p 'process.versions.node.split(".")[0]')
((node_major >= 20)) || die "Node $(node --version) is too old: Playwright needs Node 20 or later"

if [[ ! -d node_modules/@playwright/test ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  log "npm ci (tests/browser)"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
fi

log "unit tests (node --test)"
unit_out=$(mktemp)
if node --test unit/*.test.mjs >"$unit_out" 2>&1; then status=0; else status=$?; fi
grep -E '^not ok|^# (tests|pass|fail)' "$unit_out" || true
if ((status == 0)); then
  unit_result="$(sed -n 's/^# pass //p' "$unit_out") passed"
else
  cat "$unit_out"
  unit_result="FAILED ($(sed -n 's/^# fail //p' "$unit_out") failed)"
  rc=1
fi
rm -f "$unit_out"

if [[ ${E2E:-1} == 0 ]]; then
  e2e_result="skipped (E2E=0)"
  exit "$rc"
fi

ensure_apt chromium chromium
export CHROMIUM_PATH=${CHROMIUM_PATH:-$(command -v chromium)}
if [[ -z ${UYOOP_BASE_URL:-} ]]; then
  BIN=${UYOOP_BIN:-target/debug/uyoop-cal}
  [[ $BIN = /* ]] || BIN=$REPO_ROOT/$BIN
  [[ -x $BIN ]] || die "server binary $BIN not found: build it first (cargo build -p uyoop-cal) or set UYOOP_BIN"
  export UYOOP_BIN=$BIN
fi

mkdir -p artifacts
log "Playwright e2e (Chromium $("$CHROMIUM_PATH" --version 2>/dev/null | grep -oE '[0-9]+(\.[0-9]+)+' | head -1))"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if npx playwright test "$@"; then status=0; else status=$?; fi
# shellcheck disable=SC2016 # JavaScript, not shell
e2e_result=$(node -e '
  const r = JSON.parse(require("fs").readFileSync("test-results/results.json", "utf8"));
  const s = r.stats || {};
  const parts = [`${s.expected ?? 0} passed`, `${s.unexpected ?? 0} failed`];
  if (s.flaky) parts.push(`${s.flaky} flaky`);
  if (s.skipped) parts.push(`${s.skipped} skipped`);
  if (r.errors?.length) parts.push(`${r.errors.length} global error(s)`);
  console.log(parts.join(", "));
' 2>/dev/null || echo "no report (Playwright exit $status)")
((status == 0)) || rc=1
exit "$rc"
