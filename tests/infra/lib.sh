#!/usr/bin/env bash
# Shared helpers for the artifact-validation scripts in tests/infra/*.sh.
# Source it: `. "$(dirname "$0")/lib.sh"`. Every script installs what it needs, idempotently.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CACHE_DIR=${UYOOP_CACHE_DIR:-$REPO_ROOT/.cache}
mkdir -p "$CACHE_DIR"

log() { printf '\033[1;32m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# ensure_venv NAME PKG... : a virtualenv per tool family under .cache/venv-NAME, with PKGs installed.
# Prints the venv's bin directory. Separate venvs keep conflicting pins (checkov vs ansible) apart.
ensure_venv() {
  local name=$1; shift
  local venv=$CACHE_DIR/venv-$name
  local stamp=$venv/.installed-$(printf '%s ' "$@" | sha256sum | cut -c1-16)
  if [[ ! -f $stamp ]]; then
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$@" >&2
    touch "$stamp"
  fi
  echo "$venv/bin"
}

# ensure_apt CMD PKG : install Debian package PKG when CMD is not on PATH.
ensure_apt() {
  local cmd=$1 pkg=$2
  if ! command -v "$cmd" >/dev/null 2>&1; then
    log "installing $pkg (apt)"
    if [[ ! -f $CACHE_DIR/.apt-updated ]]; then
      apt-get update -qq >&2 && touch "$CACHE_DIR/.apt-updated"
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg" >&2
  fi
}
