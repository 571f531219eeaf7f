#!/usr/bin/env python3
"""Checks the observability artifacts with the engines that consume them.

- grafana/alerts/uyoop.rules.yaml: `promtool check rules`, every promtool unit test file, every alert
  tested firing (per severity) and not firing, labels and annotations, runbook_url -> runbooks/.
- runbooks/: one per alert, the four sections, cross-references that resolve.
- grafana/alertmanager/alertmanager.yml: `amtool check-config`, routing per severity
  (`amtool config routes test`), secrets only as *_file references, no placeholders.
- grafana/dashboards/*.json: uids unique across files, panel ids unique, layout, every query on the
  `${datasource}` variable, every PromQL expression parsed by promtool (Grafana variables
  substituted), app metric names that the app exposes.

Run through tests/infra/monitoring.sh, which installs promtool, amtool and PyYAML. Prints one line
per check and ends with `monitoring: N passed, M failed`; exits 1 on any failure.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "grafana/alerts/uyoop.rules.yaml"
RULE_TESTS = sorted((ROOT / "grafana/alerts/tests").glob("*.yaml"))
ALERTMANAGER = ROOT / "grafana/alertmanager/alertmanager.yml"
DASHBOARDS = sorted((ROOT / "grafana/dashboards").glob("*.json"))
RUNBOOKS = ROOT / "runbooks"
RUNBOOK_BASE = "https://git.uyoop.local/uyoop/uyoop-cal/-/blob/main/runbooks/"
RUNBOOK_SECTIONS = ["## Meaning", "## Impact", "## Diagnosis", "## Mitigation"]
SEVERITIES = {"critical", "warning", "info"}
# What the app exposes on its metrics listener (grafana/README.md); histograms add _bucket/_sum/_count.
APP_METRICS = {
    "http_requests_total",
    "http_request_duration_seconds",
    "http_requests_in_flight",
    "events_created_total",
    "deployments_total",
    "git_actions_executed_total",
    "background_jobs_total",
    "background_jobs_pending",
    "rate_limited_total",
    "auth_logins_total",
    "webhook_deliveries_total",
    "dora_lead_time_seconds",
    "dora_time_to_restore_seconds",
    "uyoop_build_info",
}
APP_METRIC_PREFIXES = (
    "http_request",
    "events_created",
    "deployments_",
    "git_actions",
    "background_jobs",
    "rate_limited",
    "auth_logins",
    "webhook_deliveries",
    "dora_",
    "uyoop_",
)
# Alertmanager: (labels, receiver every such alert must reach).
ROUTES = [
    (["severity=critical", "alertname=HighErrorRate"], "oncall-page"),
    (["severity=warning", "alertname=RedisDown"], "team-chat"),
    (["severity=info", "alertname=Anything"], "team-slack"),
    (["alertname=Watchdog", "severity=none"], "blackhole"),
    (["alertname=Unlabelled"], "team-email"),
]
# Alertmanager keys that would hold a secret inline; their *_file twin is the one to use.
INLINE_SECRET_KEYS = {
    "smtp_auth_password",
    "smtp_auth_secret",
    "slack_api_url",
    "api_url",
    "auth_password",
    "password",
    "bearer_token",
    "credentials",
    "webhook_url",
    "routing_key",
    "service_key",
    "api_key",
    "token",
    "client_secret",
}
PLACEHOLDER = re.compile(r"example\.(com|org|net)|changeme|xxx|<[a-z _-]+>|todo|fixme|hooks\.slack\.com", re.IGNORECASE)
# Values that Grafana's variables take for the PromQL check.
# A Grafana variable reference: ${name}, ${name:format} or $name.
VARIABLE = r"\$\{(\w+)(?::\w+)?\}|\$(\w+)"
GRAFANA_BUILTINS = {
    "__rate_interval": "5m",
    "__interval": "1m",
    "__range": "1d",
    "__range_s": "86400",
    "__range_ms": "86400000",
    "__interval_ms": "60000",
}


class Checks:
    """Runs named checks, prints one line each, and counts them."""

    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def run(self, name: str, fn: Callable[[], list[str]]) -> None:
        try:
            problems = fn()
        except Exception as e:  # noqa: BLE001 - a crash in a check is that check's failure, not the run's
            problems = [f"{type(e).__name__}: {e}"]
        if problems:
            self.failed += 1
            print(f"FAIL  {name}")
            for p in problems:
                for line in str(p).rstrip().splitlines():
                    print(f"      {line}")
        else:
            self.passed += 1
            print(f"ok    {name}")
        sys.stdout.flush()


def tool(*args: str) -> list[str]:
    """Runs a command; its output becomes the problem list when it fails."""
    proc = subprocess.run(args, check=False, capture_output=True, text=True)
    if proc.returncode != 0:
        return [f"$ {' '.join(args)}", proc.stdout + proc.stderr]
    return []


def kebab(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", name).lower()


def load_alerts() -> list[dict]:
    doc = yaml.safe_load(RULES.read_text())
    return [r for g in doc["groups"] for r in g["rules"] if "alert" in r]


# ----------------------------------------------------------------------------------------- alerts


def check_alert_metadata() -> list[str]:
    problems = []
    for r in load_alerts():
        name = r["alert"]
        labels, ann = r.get("labels", {}), r.get("annotations", {})
        if labels.get("severity") not in SEVERITIES:
            problems.append(f"{name}: severity label must be one of {sorted(SEVERITIES)}")
        if not labels.get("component"):
            problems.append(f"{name}: no component label")
        for key in ("summary", "description", "runbook_url"):
            if not str(ann.get(key, "")).strip():
                problems.append(f"{name}: no {key} annotation")
        if "for" not in r:
            problems.append(f"{name}: no `for`: a single bad scrape would page")
    return problems


def check_runbook_urls() -> list[str]:
    problems = []
    for r in load_alerts():
        name, url = r["alert"], r.get("annotations", {}).get("runbook_url", "")
        want = f"{RUNBOOK_BASE}{kebab(name)}.md"
        if url != want:
            problems.append(f"{name}: runbook_url is {url!r}, expected {want!r}")
        elif not (RUNBOOKS / f"{kebab(name)}.md").is_file():
            problems.append(f"{name}: runbooks/{kebab(name)}.md does not exist")
    return problems


def check_runbook_sections() -> list[str]:
    problems = []
    alerts = {kebab(r["alert"]) for r in load_alerts()}
    for path in sorted(RUNBOOKS.glob("*.md")):
        if path.name == "README.md":
            continue
        if path.stem not in alerts:
            problems.append(f"runbooks/{path.name}: no alert named {path.stem} (orphan runbook)")
        headings = [line.strip() for line in path.read_text().splitlines() if line.startswith("## ")]
        if headings[:4] != RUNBOOK_SECTIONS:
            problems.append(f"runbooks/{path.name}: sections {headings}, expected {RUNBOOK_SECTIONS} first")
        body = path.read_text()
        for section, nxt in zip(RUNBOOK_SECTIONS, RUNBOOK_SECTIONS[1:] + [None]):
            start = body.find(section)
            end = body.find(nxt) if nxt else len(body)
            if start >= 0 and len(body[start + len(section) : end].strip()) < 40:
                problems.append(f"runbooks/{path.name}: {section} is (almost) empty")
    return problems


def check_runbook_references() -> list[str]:
    problems = []
    for path in sorted(RUNBOOKS.glob("*.md")):
        for ref in sorted(set(re.findall(r"`?\b([a-z0-9-]+\.md)\b", path.read_text()))):
            if not (RUNBOOKS / ref).is_file():
                problems.append(f"runbooks/{path.name} refers to {ref}, which does not exist")
    return problems


def check_alerts_tested_both_ways() -> list[str]:
    """Every (alert, severity) fires in some test, and every alert is asserted quiet in some test."""
    fired: set[tuple[str, str]] = set()
    quiet: set[str] = set()
    for path in RULE_TESTS:
        doc = yaml.safe_load(path.read_text())
        for group in doc.get("tests", []):
            for t in group.get("alert_rule_test", []):
                exp = t.get("exp_alerts") or []
                if not exp:
                    quiet.add(t["alertname"])
                for a in exp:
                    fired.add((t["alertname"], a.get("exp_labels", {}).get("severity", "")))
    problems = []
    for r in load_alerts():
        key = (r["alert"], r["labels"]["severity"])
        if key not in fired:
            problems.append(f"{r['alert']} ({key[1]}): no promtool test where it fires")
        if r["alert"] not in quiet:
            problems.append(f"{r['alert']}: no promtool test where it stays quiet")
    return problems


# ----------------------------------------------------------------------------------- alertmanager


def check_amtool_routes() -> list[str]:
    problems = []
    for labels, receiver in ROUTES:
        problems += tool(
            "amtool",
            "config",
            "routes",
            "test",
            f"--config.file={ALERTMANAGER}",
            f"--verify.receivers={receiver}",
            *labels,
        )
    config = yaml.safe_load(ALERTMANAGER.read_text())
    routed = {m for r in config["route"].get("routes", []) for m in r.get("matchers", [])}
    for sev in sorted({r["labels"]["severity"] for r in load_alerts()}):
        if f'severity="{sev}"' not in routed:
            problems.append(f"no route matches severity={sev}, which the rules use")
    return problems


def check_alertmanager_secrets() -> list[str]:
    problems = []

    def walk(node: object, path: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k in INLINE_SECRET_KEYS:
                    problems.append(f"{path}.{k}: secret inline; use {k}_file (or a relay) instead")
                walk(v, f"{path}.{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{path}[{i}]")
        elif isinstance(node, str) and PLACEHOLDER.search(node):
            problems.append(f"{path}: placeholder-looking value {node!r}")

    walk(yaml.safe_load(ALERTMANAGER.read_text()), "alertmanager")
    if "_file:" not in ALERTMANAGER.read_text():
        problems.append("no *_file secret reference at all")
    return problems


# ------------------------------------------------------------------------------------- dashboards


def dashboards() -> list[tuple[str, dict]]:
    return [(p.name, json.loads(p.read_text())) for p in DASHBOARDS]


def all_panels(d: dict) -> list[dict]:
    out = []
    for p in d.get("panels", []):
        out.append(p)
        out += p.get("panels", [])  # collapsed rows nest their panels
    return out


def check_dashboard_shape() -> list[str]:
    problems = []
    if len(DASHBOARDS) < 3:
        problems.append(f"expected the RED, DORA and infra dashboards, found {[p.name for p in DASHBOARDS]}")
    for name, d in dashboards():
        for key in ("uid", "title", "schemaVersion", "panels"):
            if not d.get(key):
                problems.append(f"{name}: no {key}")
        if d.get("id") not in (None,):
            problems.append(f"{name}: remove the instance-specific `id` (Grafana assigns it)")
        if not re.fullmatch(r"[a-z0-9-]{1,40}", d.get("uid", "")):
            problems.append(f"{name}: uid {d.get('uid')!r} must be a stable slug (<= 40 chars)")
    return problems


def check_dashboard_uids() -> list[str]:
    seen: dict[str, str] = {}
    problems = []
    for name, d in dashboards():
        uid = d.get("uid")
        if uid in seen:
            problems.append(f"uid {uid!r} used by {seen[uid]} and {name}")
        seen[uid] = name
    return problems


def check_panel_ids_and_layout() -> list[str]:
    problems = []
    for name, d in dashboards():
        ids = [p.get("id") for p in all_panels(d)]
        dupes = sorted({i for i in ids if ids.count(i) > 1 or i is None}, key=str)
        if dupes:
            problems.append(f"{name}: duplicate or missing panel ids {dupes}")
        cells: dict[tuple[int, int], str] = {}
        for p in all_panels(d):
            g = p.get("gridPos", {})
            x, y, w, h = g.get("x", -1), g.get("y", -1), g.get("w", 0), g.get("h", 0)
            if x < 0 or y < 0 or w <= 0 or h <= 0 or x + w > 24:
                problems.append(f"{name}: panel {p.get('id')} has gridPos {g}")
                continue
            for cx in range(x, x + w):
                for cy in range(y, y + h):
                    if (cx, cy) in cells:
                        problems.append(f"{name}: panel {p.get('id')} overlaps {cells[(cx, cy)]}")
                        break
                    cells[(cx, cy)] = f"panel {p.get('id')}"
                else:
                    continue
                break
    return problems


def check_datasources() -> list[str]:
    want = {"type": "prometheus", "uid": "${datasource}"}
    problems = []
    for name, d in dashboards():
        variables = {v["name"]: v for v in d.get("templating", {}).get("list", [])}
        ds = variables.get("datasource")
        if not ds or ds.get("type") != "datasource" or ds.get("query") != "prometheus":
            problems.append(f"{name}: no `datasource` variable of type datasource/prometheus")
        for v in variables.values():
            if v.get("type") == "query" and v.get("datasource") != want:
                problems.append(f"{name}: variable {v['name']} does not query ${{datasource}}")
        for a in d.get("annotations", {}).get("list", []):
            if a.get("datasource") != want:
                problems.append(f"{name}: annotation {a.get('name')} does not use ${{datasource}}")
        for p in all_panels(d):
            if p.get("type") in ("row", "text"):
                continue
            if p.get("datasource") != want:
                problems.append(f"{name}: panel {p['id']} ({p.get('title')}) datasource {p.get('datasource')}")
            if not p.get("targets"):
                problems.append(f"{name}: panel {p['id']} ({p.get('title')}) has no query")
            for t in p.get("targets", []):
                if t.get("datasource", want) != want:
                    problems.append(f"{name}: panel {p['id']} target {t.get('refId')} datasource {t.get('datasource')}")
                if not t.get("expr", "").strip():
                    problems.append(f"{name}: panel {p['id']} target {t.get('refId')} has no expr")
    return problems


def substitute(expr: str, values: dict[str, str]) -> str:
    """Replaces each Grafana variable in expr by its value; unknown ones stay as they are."""
    return re.sub(VARIABLE, lambda m: values.get(m.group(1) or m.group(2), m.group(0)), expr)


def dashboard_expressions() -> list[tuple[str, str]]:
    """(where, PromQL) for every panel target, annotation and query variable, variables substituted."""
    out = []
    for name, d in dashboards():
        variables = d.get("templating", {}).get("list", [])
        values = dict(GRAFANA_BUILTINS)
        for v in variables:
            values[v["name"]] = v.get("allValue") or "value"

        for p in all_panels(d):
            for t in p.get("targets", []):
                out.append((f"{name} panel {p['id']} {t.get('refId')}", substitute(t.get("expr", ""), values)))
        for a in d.get("annotations", {}).get("list", []):
            if a.get("expr"):
                out.append((f"{name} annotation {a.get('name')}", substitute(a["expr"], values)))
        for v in variables:
            q = v.get("definition") or ""
            found = re.fullmatch(r"label_values\((.*),\s*\w+\)", q.strip())
            if found:
                out.append((f"{name} variable {v['name']}", substitute(found.group(1), values)))
    return out


def check_dashboard_promql() -> list[str]:
    exprs = dashboard_expressions()
    problems = [f"{where}: unresolved variable in {e}" for where, e in exprs if "$" in e]
    rules = [
        {"record": f"dashboard:check_{i}", "expr": e, "labels": {"source": where}} for i, (where, e) in enumerate(exprs)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "dashboards.rules.yaml")
        with open(path, "w") as f:
            yaml.safe_dump({"groups": [{"name": "dashboard-queries", "rules": rules}]}, f, width=10_000)
        out = tool("promtool", "check", "rules", path)
        if out:
            # promtool names the failing rule by index: map it back to the panel.
            text = out[1]
            for i, (where, e) in enumerate(exprs):
                if re.search(rf"dashboard:check_{i}\b", out[1]):
                    text += f"\n  dashboard:check_{i} is {where}: {e}"
            problems.append(text)
    if len(exprs) < 20:
        problems.append(f"only {len(exprs)} expressions found: the extraction is broken")
    return problems


def check_app_metric_names() -> list[str]:
    """Expressions about the app use the metric names it exposes (catches typos in names)."""
    exprs = dashboard_expressions()
    exprs += [(f"alert {r['alert']}", r["expr"]) for r in load_alerts()]
    problems = []
    for where, e in exprs:
        for ident in set(re.findall(r"\b([a-z_][a-z0-9_]*)\b", e)):
            if not ident.startswith(APP_METRIC_PREFIXES):
                continue
            base = re.sub(r"_(bucket|sum|count)$", "", ident)
            if ident not in APP_METRICS and base not in APP_METRICS:
                problems.append(f"{where}: {ident} is not an app metric")
    return sorted(set(problems))


def main() -> int:
    checks = Checks()
    checks.run(
        "promtool check rules grafana/alerts/uyoop.rules.yaml", lambda: tool("promtool", "check", "rules", str(RULES))
    )
    for path in RULE_TESTS:
        checks.run(
            f"promtool test rules grafana/alerts/tests/{path.name}",
            lambda p=path: tool("promtool", "test", "rules", str(p)),
        )
    checks.run("every alert has severity, component, summary, description, runbook_url and for", check_alert_metadata)
    checks.run("every alert is unit-tested firing (per severity) and quiet", check_alerts_tested_both_ways)
    checks.run("every runbook_url is the base + <alert-name-kebab>.md and the file exists", check_runbook_urls)
    checks.run("every runbook has Meaning, Impact, Diagnosis, Mitigation and an alert", check_runbook_sections)
    checks.run("runbook cross-references resolve", check_runbook_references)
    checks.run(
        "amtool check-config grafana/alertmanager/alertmanager.yml",
        lambda: tool("amtool", "check-config", str(ALERTMANAGER)),
    )
    checks.run("alertmanager routes each severity to its receivers (amtool config routes test)", check_amtool_routes)
    checks.run("alertmanager holds no inline secret and no placeholder", check_alertmanager_secrets)
    checks.run("dashboards parse and have uid, title, schemaVersion, panels", check_dashboard_shape)
    checks.run("dashboard uids are unique across files", check_dashboard_uids)
    checks.run("panel ids are unique and panels fit the grid without overlap", check_panel_ids_and_layout)
    checks.run("every query, variable and annotation uses the ${datasource} Prometheus variable", check_datasources)
    checks.run("every dashboard PromQL expression parses (promtool check rules)", check_dashboard_promql)
    checks.run("app metric names in dashboards and alerts are ones the app exposes", check_app_metric_names)
    print(f"monitoring: {checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
