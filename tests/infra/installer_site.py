#!/usr/bin/env python3
"""Checks of a site rendered by `uyoop-install render` that need a Python library (tests/infra/installer.sh).

    installer_site.py chart SITE OUT       render SITE/helm/uyoop-cal with the site's values
                                           (SITE/kubernetes/uyoop-cal/values.yaml) by the Helm engine
                                           (helm-python-sdk) after checking them against the chart's
                                           values.schema.json; one manifest per template into OUT
    installer_site.py terraform SITE...    every .tf of SITE/terraform (root and module) parses
                                           (python-hcl2), every key of terraform.tfvars.json is a
                                           declared variable, every variable without a default is set
    installer_site.py inventory SITE       `ansible-inventory --list` output (stdin) holds the servers
                                           and agents of SITE/uyoop.resolved.yaml, each with an address

Each command prints one summary line and exits 1 with one line per problem.
"""

from __future__ import annotations

import json
import pathlib
import sys


def cmd_chart(site: pathlib.Path, out: pathlib.Path) -> list[str]:
    import helm_python as helm
    import yaml

    chart = helm.Chart.load(str(site / "helm/uyoop-cal"))
    values = yaml.safe_load((site / "kubernetes/uyoop-cal/values.yaml").read_text())
    try:
        chart.validate_schema(values)
    except helm.HelmValuesError as err:
        return [f"the site's values break values.schema.json: {err}"]
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.iterdir():
        stale.unlink()
    written = 0
    for path, text in sorted(chart.render(values, name="uyoop-cal", namespace="uyoop", is_install=True).items()):
        if path.endswith(".yaml") and text.strip():
            (out / pathlib.Path(path).name).write_text(text)
            written += 1
    print(f"{written} manifests rendered from the site's values into {out}")
    return [] if written >= 8 else [f"only {written} manifests rendered"]


def cmd_terraform(sites: list[pathlib.Path]) -> list[str]:
    import hcl2

    errors: list[str] = []
    parsed = 0
    for site in sites:
        tf = site / "terraform"
        declared: dict[str, dict] = {}
        for f in sorted(tf.rglob("*.tf")):
            try:
                with f.open() as fh:
                    doc = hcl2.load(fh)
            except Exception as exc:  # the parser raises several lark exception types
                errors.append(f"{f}: does not parse: {str(exc).splitlines()[0]}")
                continue
            parsed += 1
            if f.parent == tf:
                for entry in doc.get("variable", []):
                    # python-hcl2 keeps the label's quotes: `"site_name"`.
                    declared.update({name.strip('"'): body for name, body in entry.items()})
        tfvars = json.loads((tf / "terraform.tfvars.json").read_text())
        for key in sorted(set(tfvars) - set(declared)):
            errors.append(f"{tf}/terraform.tfvars.json: {key} is not a variable of the root module")
        for name, body in sorted(declared.items()):
            if "default" not in body and name not in tfvars:
                errors.append(f"{tf}: required variable {name} is not set by terraform.tfvars.json")
        if not declared:
            errors.append(f"{tf}: no variable declared")
    print(f"parsed {parsed} .tf files of {len(sites)} site(s)")
    return errors


def cmd_inventory(site: pathlib.Path) -> list[str]:
    import yaml

    config = yaml.safe_load((site / "uyoop.resolved.yaml").read_text())
    inventory = json.load(sys.stdin)
    hostvars = inventory.get("_meta", {}).get("hostvars", {})
    errors = []
    for group, want in (("k3s_servers", config["nodes"]["servers"]["count"]),
                        ("k3s_agents", config["nodes"]["agents"]["count"])):
        hosts = inventory.get(group, {}).get("hosts", [])
        if len(hosts) != want:
            errors.append(f"{group}: {len(hosts)} hosts, uyoop.yaml asks for {want}")
        errors += [f"{h}: no ansible_host" for h in hosts if not hostvars.get(h, {}).get("ansible_host")]
    if "k3s_servers" not in inventory.get("k3s_cluster", {}).get("children", []):
        errors.append("k3s_servers is not a child of k3s_cluster")
    print(f"inventory: {len(hostvars)} hosts")
    return errors


def main() -> int:
    cmd, *args = sys.argv[1:]
    if cmd == "chart":
        errors = cmd_chart(pathlib.Path(args[0]), pathlib.Path(args[1]))
    elif cmd == "terraform":
        errors = cmd_terraform([pathlib.Path(a) for a in args])
    elif cmd == "inventory":
        errors = cmd_inventory(pathlib.Path(args[0]))
    else:
        print(__doc__)
        return 2
    for e in errors:
        print(e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
