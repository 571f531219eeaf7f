#!/usr/bin/env bash
# Validates terraform/ and ansible/ with the engines that consume them, offline:
#   Terraform  every .tf parsed (python-hcl2), `terraform fmt -check` when the binary is on PATH,
#              the input/output contract (tests/infra/iac_check.py), checkov
#   Ansible    the contract, `ansible-playbook --syntax-check`, ansible-lint (production profile),
#              checkov, and every role template rendered for the example site by Ansible itself,
#              then read by its real consumer: nft -c, sshd -t, chronyd -p, apt-config,
#              systemd-analyze verify, and iac_check.py for the K3s configuration.
# `terraform init/validate` cannot run here (providers are not downloadable).
# Prints one line per check and ends with `iac: N passed, M failed`; exits 1 on any failure.
set -euo pipefail
# shellcheck source=tests/infra/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

IAC_BIN=$(ensure_venv iac python-hcl2==8.1.4 PyYAML==6.0.3)
ANSIBLE_BIN=$(ensure_venv ansible ansible-core==2.19.14 ansible-lint==26.10.1)
CHECKOV_BIN=$(ensure_venv checkov checkov==3.3.30)
ensure_apt nft nftables
ensure_apt systemd-analyze systemd
ensure_apt apt-config apt
ensure_apt ssh-keygen openssh-client

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# deb_bin PKG PATH: PATH inside Debian package PKG, unpacked under .cache without running its
# maintainer scripts (installing openssh-server or chrony would start their daemons).
deb_bin() {
  local pkg=$1 path=$2 dir=$CACHE_DIR/deb-$1
  if [[ ! -x $dir/$path ]]; then
    if [[ ! -f $CACHE_DIR/.apt-updated ]]; then
      apt-get update -qq >&2 && touch "$CACHE_DIR/.apt-updated"
    fi
    local dl
    dl=$(mktemp -d)
    chmod 0777 "$dl"
    (cd "$dl" && apt-get download -qq "$pkg" >&2 2>/dev/null)
    rm -rf "$dir"
    dpkg-deb -x "$dl"/"$pkg"_*.deb "$dir"
    rm -rf "$dl"
  fi
  echo "$dir/$path"
}

passed=0 failed=0 skipped=0
# check NAME CMD...: run CMD with its output in a log; one line per check, the log on failure.
check() {
  local name=$1 log=$WORK/$1.log start=$SECONDS
  shift
  if "$@" >"$log" 2>&1; then
    passed=$((passed + 1))
    printf 'ok    %-24s %3ss\n' "$name" $((SECONDS - start))
  else
    failed=$((failed + 1))
    printf 'FAIL  %-24s %3ss\n' "$name" $((SECONDS - start))
    tail -n 60 "$log" | sed 's/^/      /'
  fi
}
skip() {
  skipped=$((skipped + 1))
  printf 'skip  %-24s (%s)\n' "$1" "$2"
}

# ---------------------------------------------------------------------------------------------------
# Terraform
# ---------------------------------------------------------------------------------------------------
check terraform-parse "$IAC_BIN/python" tests/infra/iac_check.py parse
if command -v terraform >/dev/null 2>&1; then
  check terraform-fmt env TF_CLI_CONFIG_FILE=/dev/null terraform fmt -check -recursive -diff terraform/
else
  skip terraform-fmt "no terraform binary on PATH"
fi
check terraform-contract "$IAC_BIN/python" tests/infra/iac_check.py terraform
check checkov-terraform "$CHECKOV_BIN/checkov" --directory terraform --framework terraform \
  --skip-download --download-external-modules false --compact --quiet

# ---------------------------------------------------------------------------------------------------
# Ansible
# ---------------------------------------------------------------------------------------------------
export ANSIBLE_CONFIG=$REPO_ROOT/ansible/ansible.cfg ANSIBLE_ROLES_PATH=$REPO_ROOT/ansible/roles
export ANSIBLE_DEPRECATION_WARNINGS=False ANSIBLE_NOCOLOR=1
ansible_env=(env "PATH=$ANSIBLE_BIN:$PATH")

check ansible-contract "$IAC_BIN/python" tests/infra/iac_check.py ansible
check ansible-syntax "${ansible_env[@]}" ansible-playbook --syntax-check \
  -i ansible/inventory/example/hosts.yml ansible/site.yml
check ansible-lint bash -c 'cd ansible && exec "$@"' _ "${ansible_env[@]}" ansible-lint -c .ansible-lint
check checkov-ansible "$CHECKOV_BIN/checkov" --directory ansible --framework ansible \
  --skip-download --compact --quiet

# The roles' templates, rendered by Ansible for the example site (two servers, one agent), then
# handed to the programs that read them on a node.
RENDER=$WORK/render
check templates-render "${ansible_env[@]}" ansible-playbook tests/infra/iac_render.yml --tags render \
  -i ansible/inventory/example/hosts.yml \
  -e "iac_render_out=$RENDER" -e "ansible_python_interpreter=$ANSIBLE_BIN/python" \
  -e "vault_k3s_token=iac-check-token-not-a-secret-0123456789"

check_each() { # check_each CMD... FILE-GLOB: CMD on every rendered file matching the glob
  local glob=${*: -1} n=0 f
  set -- "${@:1:$#-1}"
  # shellcheck disable=SC2231 # $glob is a pattern on purpose
  for f in "$RENDER"/*/$glob; do
    [[ -e $f ]] || continue
    echo "== $f"
    "$@" "$f" || return 1
    n=$((n + 1))
  done
  ((n > 0)) || { echo "no rendered $glob"; return 1; }
}
nft_check() { nft -c -f "$1"; }
sshd_check() { "$SSHD" -t -f "$1" -h "$WORK/ssh_host_ed25519_key"; }
chrony_check() { "$CHRONYD" -p -f "$1" >/dev/null; }
apt_check() { apt-config -c "$1" dump >/dev/null; }
unit_check() { systemd-analyze verify "$1"; }

SSHD=$(deb_bin openssh-server usr/sbin/sshd)
CHRONYD=$(deb_bin chrony usr/sbin/chronyd)
ssh-keygen -q -t ed25519 -N '' -f "$WORK/ssh_host_ed25519_key"
# sshd -t insists on its privilege separation user and directory, as on a real node.
id sshd >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /run/sshd --shell /usr/sbin/nologin sshd
mkdir -p /run/sshd && chmod 0755 /run/sshd

check nftables-rules check_each nft_check uyoop-filter.nft
check sshd-config check_each sshd_check sshd-hardening.conf
check chrony-config check_each chrony_check chrony.conf
check apt-config check_each apt_check '*upgrades'
check systemd-units check_each unit_check '*.service'
check k3s-config "$IAC_BIN/python" tests/infra/iac_check.py rendered "$RENDER"

summary="iac: $passed passed, $failed failed"
((skipped == 0)) || summary+=", $skipped skipped"
echo "$summary"
((failed == 0))
