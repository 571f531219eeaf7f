#!/usr/bin/env python3
"""Contract checks for terraform/ and ansible/ that no linter knows about.

    iac_check.py parse      every .tf file under terraform/ parses (python-hcl2)
    iac_check.py terraform  every variable typed and described, providers pinned, the shared
                            variables identical across providers, examples in sync with their
                            module, example tfvars complete, README tables current
    iac_check.py ansible    role layout, role-prefixed defaults, changed_when on every command,
                            every inventory variable documented in ansible/README.md
    iac_check.py rendered DIR
                            the K3s files and sysctl settings rendered by tests/infra/iac_render.yml
                            (one sub-directory per example host) say what the roles promise
    iac_check.py docs       rewrite the generated input/output tables of the module READMEs

Each command prints one summary line and exits 1 with one line per problem when it finds any.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import re
import sys
from typing import Any

import hcl2
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
TF = ROOT / "terraform"
ANSIBLE = ROOT / "ansible"
MODULES = ("proxmox", "azure", "vsphere")
MODULE_FILES = ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md")
EXAMPLE_FILES = ("main.tf", "variables.tf", "versions.tf", "terraform.tfvars.json")
# The installer writes these into every site's terraform.tfvars.json, whatever the provider.
SHARED_VARIABLES = (
    "site_name", "server_count", "agent_count", "server_size", "agent_size", "network_cidr",
    "ssh_public_key", "admin_cidr", "admin_username", "tags", "server_ip_offset", "agent_ip_offset",
)
# The installer turns these into the Ansible inventory.
REQUIRED_OUTPUTS = ("servers", "agents", "api_endpoint", "ssh_user", "admin_cidr")
# "Pinned": an exact version, or `~> X.Y.Z` (patch releases only).
PINNED = re.compile(r"^(=\s*)?\d+\.\d+\.\d+$|^~>\s*\d+\.\d+\.\d+$")
ROLES = ("common", "airgap", "k3s_server", "k3s_agent", "k3s_manifests")
ROLE_DIRS = ("defaults", "tasks", "handlers", "templates", "meta")
COMMAND_MODULES = {"ansible.builtin.command", "ansible.builtin.shell", "ansible.builtin.raw",
                   "ansible.builtin.script", "command", "shell", "raw", "script"}


def unquote(value: Any) -> Any:
    """python-hcl2 keeps HCL quoting (`"x"`) and interpolation (`${...}`); strip both, deeply."""
    if isinstance(value, str):
        if len(value) >= 2 and value[0] == value[-1] == '"':
            return value[1:-1].replace('\\"', '"')
        if value.startswith("${") and value.endswith("}"):
            return value[2:-1]
        return value
    if isinstance(value, list):
        return [unquote(v) for v in value]
    if isinstance(value, dict):
        return {unquote(k): unquote(v) for k, v in value.items() if k not in ("__is_block__", "__comments__")}
    return value


def load_tf(path: pathlib.Path) -> dict:
    with path.open() as fh:
        return unquote(hcl2.load(fh))


def blocks(doc: dict, kind: str) -> dict[str, dict]:
    """{name: body} of the `kind` blocks (variable, output) of a parsed file."""
    out: dict[str, dict] = {}
    for entry in doc.get(kind, []):
        for name, body in entry.items():
            out[name] = body
    return out


def variables_of(directory: pathlib.Path) -> dict[str, dict]:
    result: dict[str, dict] = {}
    for f in sorted(directory.glob("*.tf")):
        result.update(blocks(load_tf(f), "variable"))
    return result


def outputs_of(directory: pathlib.Path) -> dict[str, dict]:
    result: dict[str, dict] = {}
    for f in sorted(directory.glob("*.tf")):
        result.update(blocks(load_tf(f), "output"))
    return result


def providers_of(directory: pathlib.Path) -> tuple[str | None, dict[str, dict]]:
    doc = load_tf(directory / "versions.tf")
    terraform = (doc.get("terraform") or [{}])[0]
    providers: dict[str, dict] = {}
    for entry in terraform.get("required_providers", []):
        providers.update(entry)
    return terraform.get("required_version"), providers


def norm_type(t: Any) -> str:
    return re.sub(r"\s+", "", str(t))


# ---------------------------------------------------------------------------------------------------
# parse
# ---------------------------------------------------------------------------------------------------

def cmd_parse() -> list[str]:
    errors = []
    files = sorted(TF.rglob("*.tf"))
    for f in files:
        try:
            load_tf(f)
        except Exception as exc:  # the parser raises several lark exception types
            errors.append(f"{f.relative_to(ROOT)}: does not parse: {str(exc).splitlines()[0]}")
    if not files:
        errors.append("no .tf file under terraform/")
    print(f"parsed {len(files)} .tf files", flush=True)
    return errors


# ---------------------------------------------------------------------------------------------------
# terraform
# ---------------------------------------------------------------------------------------------------

def cmd_terraform() -> list[str]:
    errors: list[str] = []
    shared: dict[str, tuple[str, dict]] = {}
    checked_vars = 0
    for module in MODULES:
        mdir = TF / module
        edir = mdir / "examples" / "basic"
        rel = mdir.relative_to(ROOT)
        for name in MODULE_FILES:
            if not (mdir / name).is_file():
                errors.append(f"{rel}: missing {name}")
        for name in EXAMPLE_FILES:
            if not (edir / name).is_file():
                errors.append(f"{rel}/examples/basic: missing {name}")
        if errors:
            continue

        # Every variable typed and described; the shared ones identical everywhere.
        mvars = variables_of(mdir)
        for vname, body in mvars.items():
            checked_vars += 1
            if "type" not in body:
                errors.append(f"{rel}: variable {vname} has no type")
            if not str(body.get("description", "")).strip():
                errors.append(f"{rel}: variable {vname} has no description")
        for vname in SHARED_VARIABLES:
            if vname not in mvars:
                errors.append(f"{rel}: shared variable {vname} is missing")
                continue
            body = {k: v for k, v in mvars[vname].items()}
            if vname in shared and shared[vname][1] != body:
                errors.append(f"{rel}: variable {vname} differs from its definition in terraform/{shared[vname][0]}")
            shared.setdefault(vname, (module, body))
        if "validation" not in mvars.get("server_count", {}):
            errors.append(f"{rel}: server_count has no validation block (odd, >= 3)")
        for cidr_var in ("network_cidr", "admin_cidr"):
            if "validation" not in mvars.get(cidr_var, {}):
                errors.append(f"{rel}: {cidr_var} has no validation block")

        # Outputs the installer reads.
        mouts = outputs_of(mdir)
        for oname in REQUIRED_OUTPUTS:
            if oname not in mouts:
                errors.append(f"{rel}: output {oname} is missing")
        for oname, body in mouts.items():
            if not str(body.get("description", "")).strip():
                errors.append(f"{rel}: output {oname} has no description")

        # Providers pinned, in the module and in the example alike.
        for where in (mdir, edir):
            wrel = where.relative_to(ROOT)
            required_version, providers = providers_of(where)
            if not required_version:
                errors.append(f"{wrel}/versions.tf: no required_version")
            if not providers:
                errors.append(f"{wrel}/versions.tf: no required_providers")
            for pname, spec in providers.items():
                if not isinstance(spec, dict) or "source" not in spec:
                    errors.append(f"{wrel}/versions.tf: provider {pname} has no source")
                    continue
                version = str(spec.get("version", ""))
                if not PINNED.match(version.strip()):
                    errors.append(f"{wrel}/versions.tf: provider {pname} is not pinned (version {version!r};"
                                  " want an exact X.Y.Z or ~> X.Y.Z)")
        if providers_of(mdir)[1] != providers_of(edir)[1]:
            errors.append(f"{rel}/examples/basic/versions.tf: providers differ from the module's versions.tf")

        # The example passes every module variable through, with the same type and default.
        evars = variables_of(edir)
        for vname, body in mvars.items():
            if vname not in evars:
                errors.append(f"{rel}/examples/basic: variable {vname} of the module is not declared")
                continue
            if norm_type(evars[vname].get("type")) != norm_type(body.get("type")):
                errors.append(f"{rel}/examples/basic: variable {vname} has another type than in the module")
            if evars[vname].get("default", "<required>") != body.get("default", "<required>"):
                errors.append(f"{rel}/examples/basic: variable {vname} has another default than in the module")
        example_main = load_tf(edir / "main.tf")
        calls = [body for entry in example_main.get("module", []) for body in entry.values()]
        if len(calls) != 1 or calls[0].get("source") != "../..":
            errors.append(f"{rel}/examples/basic/main.tf: expected one module call with source ../..")
        else:
            passed = {k for k in calls[0] if k != "source"}
            for vname in sorted(set(mvars) - passed):
                errors.append(f"{rel}/examples/basic/main.tf: module input {vname} is not passed")
            for vname in sorted(passed - set(mvars)):
                errors.append(f"{rel}/examples/basic/main.tf: {vname} is not a module variable")

        # The example tfvars, i.e. the installer's contract, is complete and has no stray key.
        tfvars = json.loads((edir / "terraform.tfvars.json").read_text())
        for key in sorted(set(tfvars) - set(evars)):
            errors.append(f"{rel}/examples/basic/terraform.tfvars.json: {key} is not a variable")
        for vname, body in evars.items():
            if "default" not in body and vname not in tfvars:
                errors.append(f"{rel}/examples/basic/terraform.tfvars.json: required {vname} is missing")
        for vname in SHARED_VARIABLES:
            if vname not in tfvars:
                errors.append(f"{rel}/examples/basic/terraform.tfvars.json: shared {vname} is missing")
        count = tfvars.get("server_count", 3)
        if not (isinstance(count, int) and count >= 3 and count % 2 == 1):
            errors.append(f"{rel}/examples/basic/terraform.tfvars.json: server_count must be odd and >= 3")

        # README tables generated from the code.
        readme = (mdir / "README.md").read_text()
        if render_readme(module, readme) != readme:
            errors.append(f"{rel}/README.md: input/output tables are stale; run tests/infra/iac_check.py docs")
    print(f"checked {len(MODULES)} modules, {checked_vars} variables", flush=True)
    return errors


def md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")


def render_default(body: dict) -> str:
    if "default" not in body:
        return "required"
    return f"`{json.dumps(body['default'], separators=(', ', ': '))}`"


def inputs_table(module: str) -> str:
    mvars = variables_of(TF / module)
    rows = ["| Name | Type | Default | Description |", "|---|---|---|---|"]
    for vname, body in mvars.items():
        shared = " (shared)" if vname in SHARED_VARIABLES else ""
        rows.append(f"| `{vname}`{shared} | `{md_cell(body.get('type'))}` | {md_cell(render_default(body))} "
                    f"| {md_cell(body.get('description', ''))} |")
    return "\n".join(rows)


def outputs_table(module: str) -> str:
    rows = ["| Name | Description |", "|---|---|"]
    for oname, body in outputs_of(TF / module).items():
        rows.append(f"| `{oname}` | {md_cell(body.get('description', ''))} |")
    return "\n".join(rows)


def replace_between(text: str, tag: str, content: str) -> str:
    begin, end = f"<!-- BEGIN_{tag} -->", f"<!-- END_{tag} -->"
    if begin not in text or end not in text:
        return text + f"\n{begin}\n{content}\n{end}\n"
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{content}\n{end}{tail}"


def render_readme(module: str, text: str) -> str:
    text = replace_between(text, "INPUTS", inputs_table(module))
    return replace_between(text, "OUTPUTS", outputs_table(module))


def cmd_docs() -> list[str]:
    for module in MODULES:
        path = TF / module / "README.md"
        path.write_text(render_readme(module, path.read_text()))
        print(f"wrote {path.relative_to(ROOT)}")
    return []


# ---------------------------------------------------------------------------------------------------
# ansible
# ---------------------------------------------------------------------------------------------------

def iter_tasks(items: Any):
    """Every task of a task list, descending into block/rescue/always."""
    for item in items or []:
        if not isinstance(item, dict):
            continue
        yield item
        for key in ("block", "rescue", "always"):
            if key in item:
                yield from iter_tasks(item[key])


def cmd_ansible() -> list[str]:
    errors: list[str] = []
    tasks_checked = 0
    for role in ROLES:
        rdir = ANSIBLE / "roles" / role
        rel = rdir.relative_to(ROOT)
        for sub in ROLE_DIRS:
            if not (rdir / sub).is_dir():
                errors.append(f"{rel}: missing {sub}/")
        defaults = rdir / "defaults" / "main.yml"
        if defaults.is_file():
            for key in (yaml.safe_load(defaults.read_text()) or {}):
                if not key.startswith(f"{role}_"):
                    errors.append(f"{rel}/defaults/main.yml: {key} is not prefixed with {role}_")
        for task_file in sorted((rdir / "tasks").glob("*.yml")) + sorted((rdir / "handlers").glob("*.yml")):
            for task in iter_tasks(yaml.safe_load(task_file.read_text())):
                tasks_checked += 1
                if COMMAND_MODULES & set(task) and "changed_when" not in task:
                    errors.append(f"{task_file.relative_to(ROOT)}: task {task.get('name')!r} runs a command"
                                  " without changed_when")
    # The installer generates the inventory with exactly these names: each must be documented.
    readme = (ANSIBLE / "README.md").read_text()
    group_vars = ANSIBLE / "inventory" / "example" / "group_vars" / "all.yml"
    documented = 0
    for key in (yaml.safe_load(group_vars.read_text()) or {}):
        documented += 1
        if f"`{key}`" not in readme:
            errors.append(f"ansible/README.md: inventory variable {key} (group_vars/all.yml) is not documented")
    hosts = yaml.safe_load((ANSIBLE / "inventory" / "example" / "hosts.yml").read_text())
    children = (hosts.get("k3s_cluster") or {}).get("children") or {}
    for group in ("k3s_servers", "k3s_agents"):
        if group not in children:
            errors.append(f"ansible/inventory/example/hosts.yml: group {group} missing under k3s_cluster")
    servers = (children.get("k3s_servers") or {}).get("hosts") or {}
    if len(servers) < 3 or len(servers) % 2 == 0:
        errors.append("ansible/inventory/example/hosts.yml: k3s_servers must hold an odd number >= 3 of hosts")
    print(f"checked {len(ROLES)} roles, {tasks_checked} tasks, {documented} inventory variables", flush=True)
    return errors


# ---------------------------------------------------------------------------------------------------
# rendered
# ---------------------------------------------------------------------------------------------------

# What --protect-kernel-defaults needs set before the kubelet starts (K3s CIS hardening guide).
KUBELET_SYSCTLS = {"vm.panic_on_oom": "0", "vm.overcommit_memory": "1", "kernel.panic": "10",
                   "kernel.panic_on_oops": "1", "kernel.keys.root_maxbytes": "25000000"}
APISERVER_FLAGS = ("admission-control-config-file=", "audit-policy-file=", "audit-log-path=",
                   "audit-log-maxage=", "enable-admission-plugins=")


def check_server_config(host: str, cfg: dict, inventory: dict, errors: list[str]) -> None:
    servers = list(inventory["servers"])
    first_ip = inventory["servers"][servers[0]]["ansible_host"]
    want = {"flannel-backend": "none", "disable-network-policy": True, "secrets-encryption": True,
            "protect-kernel-defaults": True, "token-file": "/etc/rancher/k3s/token", "write-kubeconfig-mode": "0600"}
    for key, value in want.items():
        if cfg.get(key) != value:
            errors.append(f"{host}/config.yaml: {key} is {cfg.get(key)!r}, want {value!r}")
    if "traefik" not in (cfg.get("disable") or []):
        errors.append(f"{host}/config.yaml: traefik is not disabled")
    if host == servers[0]:
        if cfg.get("cluster-init") is not True or "server" in cfg:
            errors.append(f"{host}/config.yaml: the first server must have cluster-init and no server")
    elif cfg.get("server") != f"https://{first_ip}:6443" or "cluster-init" in cfg:
        errors.append(f"{host}/config.yaml: a joining server must join https://{first_ip}:6443, without cluster-init")
    if inventory["api_endpoint"] not in (cfg.get("tls-san") or []):
        errors.append(f"{host}/config.yaml: tls-san lacks k3s_api_endpoint {inventory['api_endpoint']}")
    args = cfg.get("kube-apiserver-arg") or []
    for flag in APISERVER_FLAGS:
        if not any(str(a).startswith(flag) for a in args):
            errors.append(f"{host}/config.yaml: kube-apiserver-arg lacks {flag}...")
    if "enable-admission-plugins=NodeRestriction,EventRateLimit" not in args:
        errors.append(f"{host}/config.yaml: NodeRestriction and EventRateLimit admission plugins not enabled")


def check_agent_config(host: str, cfg: dict, inventory: dict, errors: list[str]) -> None:
    if cfg.get("server") != f"https://{inventory['api_endpoint']}:6443":
        errors.append(f"{host}/config.yaml: agent does not join https://{inventory['api_endpoint']}:6443")
    if cfg.get("protect-kernel-defaults") is not True:
        errors.append(f"{host}/config.yaml: protect-kernel-defaults is not on")
    if cfg.get("token-file") != "/etc/rancher/k3s/token":
        errors.append(f"{host}/config.yaml: the token is not read from /etc/rancher/k3s/token")


def cmd_rendered(directory: pathlib.Path) -> list[str]:
    errors: list[str] = []
    hosts_doc = yaml.safe_load((ANSIBLE / "inventory" / "example" / "hosts.yml").read_text())
    children = hosts_doc["k3s_cluster"]["children"]
    group_vars = yaml.safe_load((ANSIBLE / "inventory" / "example" / "group_vars" / "all.yml").read_text())
    inventory = {"servers": children["k3s_servers"]["hosts"], "agents": children["k3s_agents"]["hosts"],
                 "api_endpoint": group_vars["k3s_api_endpoint"]}
    hosts = sorted(p.name for p in directory.iterdir() if p.is_dir())
    if not hosts:
        errors.append(f"{directory}: nothing rendered")
    for host in hosts:
        hdir = directory / host
        sysctls = dict(line.split(" = ", 1) for line in (hdir / "sysctl.conf").read_text().splitlines()
                       if line and not line.startswith("#"))
        for key, value in KUBELET_SYSCTLS.items():
            if sysctls.get(key) != value:
                errors.append(f"{host}/sysctl.conf: {key} is {sysctls.get(key)!r}, protect-kernel-defaults needs {value}")
        cfg = yaml.safe_load((hdir / "config.yaml").read_text())
        if host in inventory["servers"]:
            check_server_config(host, cfg, inventory, errors)
            admission = yaml.safe_load((hdir / "admission-config.yaml").read_text())
            plugins = {p["name"]: p for p in admission.get("plugins", [])}
            if admission.get("kind") != "AdmissionConfiguration" or set(plugins) != {"PodSecurity", "EventRateLimit"}:
                errors.append(f"{host}/admission-config.yaml: want PodSecurity and EventRateLimit plugins")
            policy = yaml.safe_load((hdir / "audit-policy.yaml").read_text())
            if policy.get("kind") != "Policy" or policy.get("apiVersion") != "audit.k8s.io/v1":
                errors.append(f"{host}/audit-policy.yaml: not an audit.k8s.io/v1 Policy")
            for rule in policy.get("rules", []):
                secrets = any("secrets" in (r.get("resources") or []) for r in rule.get("resources", []))
                if secrets and rule.get("level") not in ("None", "Metadata"):
                    errors.append(f"{host}/audit-policy.yaml: secrets logged at level {rule.get('level')}")
        else:
            check_agent_config(host, cfg, inventory, errors)
        for line in (hdir / "audit.rules").read_text().splitlines():
            if line.strip() and not line.startswith("#") and not line.startswith(("-w ", "-a ", "-e ")):
                errors.append(f"{host}/audit.rules: unexpected line {line!r}")
    print(f"checked the rendered files of {len(hosts)} hosts", flush=True)
    return errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("parse", "terraform", "ansible", "rendered", "docs"))
    parser.add_argument("directory", nargs="?", type=pathlib.Path, help="output of iac_render.yml (rendered)")
    args = parser.parse_args()
    if args.command == "rendered":
        if args.directory is None:
            parser.error("rendered needs the directory iac_render.yml wrote")
        errors = cmd_rendered(args.directory)
    else:
        errors = {"parse": cmd_parse, "terraform": cmd_terraform, "ansible": cmd_ansible, "docs": cmd_docs}[args.command]()
    for error in errors:
        print(f"  {error}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
