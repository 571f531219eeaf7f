#!/usr/bin/env bash
# Validates the observability artifacts with the real engines: Prometheus' promtool (rule syntax,
# rule unit tests, every dashboard PromQL expression) and Alertmanager's amtool (configuration and
# routing), plus the repo's own invariants (runbook per alert with its four sections, alerts tested
# firing and quiet, dashboard uids/ids/datasources). The checks themselves are in monitoring.py.
#
# Usage: tests/infra/monitoring.sh   (installs promtool, amtool and PyYAML when missing)
# Output: one line per check, then `monitoring: N passed, M failed`; exit status 1 on any failure.
set -euo pipefail
# shellcheck source=tests/infra/lib.sh
. "$(dirname "$0")/lib.sh"

log "preparing tools (promtool, amtool, PyYAML)"
# Debian ships promtool in `prometheus` and amtool in `prometheus-alertmanager` (whose server binary
# is named prometheus-alertmanager); --no-install-recommends keeps the servers' extras out.
ensure_apt promtool prometheus
ensure_apt amtool prometheus-alertmanager
# A bare Debian python3 lacks venv/ensurepip; ensure_venv needs it.
if ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
  ensure_apt python3-venv-is-missing python3-venv
fi
VENV_BIN=$(ensure_venv monitoring PyYAML==6.0.3)

exec "$VENV_BIN/python" "$REPO_ROOT/tests/infra/monitoring.py"
