"""Renders, lints and checks the uyoop-cal Helm chart with the real Helm engine (helm-python-sdk).

Run by tests/infra/helm.sh with the venv's python; each subcommand is one check of that script, prints
what it found and exits non-zero on a failure:

    helm_assert.py render   CHART OUT        render the default and example-site values into OUT/<case>/
    helm_assert.py lint     CHART CASE       `helm lint --strict` with the values of CASE
    helm_assert.py schema   CHART            both values sets accepted by values.schema.json
    helm_assert.py badvalues CHART FILE      every case of FILE rejected, the error naming the key
    helm_assert.py docs     CHART            every value has a `## @param`, values.yaml <-> schema in sync
    helm_assert.py assert   CHART OUT CASE   invariants of the rendered manifests of CASE
    helm_assert.py variants CHART            invariants of renders with other values (HPA off, ...)
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import helm_python as helm
import yaml

RELEASE = "uyoop-cal"
NAMESPACE = "uyoop"  # the installer's namespace for the app
CASES = {"default": None, "example-site": "ci/example-site-values.yaml"}
REQUIRED_LABELS = ("app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/part-of", "owner")
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod"}
# Pod Security Standards "restricted": the only volume types allowed.
RESTRICTED_VOLUMES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}


class Failures(list[str]):
    """Collected assertion failures; `check` records one when its condition is false."""

    def check(self, condition: object, message: str) -> bool:
        if not condition:
            self.append(message)
        return bool(condition)


def case_values(chart_dir: Path, case: str) -> dict[str, Any]:
    rel = CASES[case]
    return {} if rel is None else yaml.safe_load((chart_dir / rel).read_text())


def render(chart: helm.Chart, values: dict[str, Any], name: str = RELEASE, namespace: str = NAMESPACE) -> dict[str, str]:
    return chart.render(values, name=name, namespace=namespace, is_install=True)


def objects(manifests: dict[str, str]) -> list[dict[str, Any]]:
    docs = []
    for path, text in sorted(manifests.items()):
        if path.endswith(".yaml"):
            docs += [d for d in yaml.safe_load_all(text) if d]
    return docs


# ---- subcommands ------------------------------------------------------------------------------------


def cmd_render(chart_dir: Path, out: Path) -> int:
    chart = helm.Chart.load(chart_dir)
    for case in CASES:  # clear every case first: a failed render must not leave stale files to scan
        (out / case).mkdir(parents=True, exist_ok=True)
        for stale in (out / case).iterdir():
            stale.unlink()
    for case in CASES:
        target = out / case
        manifests = render(chart, case_values(chart_dir, case))
        written = 0
        for path, text in sorted(manifests.items()):
            if not text.strip():
                continue  # a template switched off by its values
            (target / Path(path).name).write_text(text)
            written += 1
        print(f"{case}: {written} files in {target}")
    return 0


def cmd_lint(chart_dir: Path, case: str) -> int:
    report = helm.lint(chart_dir, case_values(chart_dir, case) or None, strict=True, kube_version="v1.32.0")
    bad = [m for m in report["messages"] if m["severity"] >= 2] + [{"error": e} for e in report["errors"]]
    for m in report["messages"]:
        print(f"  [{['unknown', 'info', 'warning', 'error'][m['severity']]}] {m['path']}: {m['error']}")
    return 1 if bad else 0


def cmd_schema(chart_dir: Path) -> int:
    chart = helm.Chart.load(chart_dir)
    failed = 0
    for case in CASES:
        try:
            chart.validate_schema(case_values(chart_dir, case))
            print(f"  {case}: accepted")
        except helm.HelmValuesError as err:
            print(f"  {case}: REJECTED: {err}")
            failed += 1
    return 1 if failed else 0


def cmd_badvalues(chart_dir: Path, cases_file: Path) -> int:
    chart = helm.Chart.load(chart_dir)
    cases = [c for c in yaml.safe_load_all(cases_file.read_text()) if c]
    failed = 0
    for case in cases:
        try:
            chart.validate_schema(case["values"])
        except helm.HelmValuesError as err:
            if case["expect"] in str(err):
                reason = " ".join(line.strip() for line in str(err).splitlines()[1:] if line.strip())
                print(f"  rejected: {case['case']}: {reason}")
            else:
                print(f"  rejected for another reason: {case['case']} (expected {case['expect']!r}): {err}")
                failed += 1
            continue
        print(f"  ACCEPTED (should be rejected): {case['case']}")
        failed += 1
    if not cases:
        print("  no cases found")
        return 1
    return 1 if failed else 0


def values_paths(node: Any, prefix: str = "") -> Iterator[str]:
    """Every path of values.yaml: non-empty maps are walked, anything else is a leaf."""
    if isinstance(node, dict) and node:
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else key
            yield path
            yield from values_paths(value, path)


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Flattens $ref and allOf so that `properties` can be looked up."""
    if "$ref" in node:
        target: Any = schema
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = {**resolve(schema, target), **{k: v for k, v in node.items() if k != "$ref"}}
    for sub in node.get("allOf", []):
        node = {**resolve(schema, sub), **{k: v for k, v in node.items() if k != "allOf"}}
    return node


def cmd_docs(chart_dir: Path) -> int:
    text = (chart_dir / "values.yaml").read_text()
    values = yaml.safe_load(text)
    schema = json.loads((chart_dir / "values.schema.json").read_text())
    f = Failures()
    documented = set(re.findall(r"^\s*## @param (\S+) \S", text, flags=re.MULTILINE))
    paths = list(values_paths(values))
    leaves = [p for p in paths if not any(q.startswith(p + ".") for q in paths)]
    for leaf in leaves:
        parts = leaf.split(".")
        f.check(
            any(".".join(parts[:i]) in documented for i in range(1, len(parts) + 1)),
            f"values.yaml: `{leaf}` has no `## @param` comment",
        )
    for param in sorted(documented):
        f.check(param in paths, f"values.yaml: `## @param {param}` documents a key that does not exist")

    def walk(vnode: Any, snode: dict[str, Any], where: str) -> None:
        snode = resolve(schema, snode)
        props = snode.get("properties")
        if not isinstance(vnode, dict) or props is None:
            return
        f.check(
            snode.get("additionalProperties") is False,
            f"schema: `{where or '.'}` should set additionalProperties: false",
        )
        for key, value in vnode.items():
            path = f"{where}.{key}" if where else key
            if f.check(key in props, f"schema: `{path}` (in values.yaml) is missing from values.schema.json"):
                walk(value, props[key], path)
        for key in props:
            if key != "global" or where:
                f.check(
                    key in vnode,
                    f"values.yaml: `{where + '.' if where else ''}{key}` (in the schema) has no default in values.yaml",
                )

    walk(values, schema, "")
    f.check(schema.get("$schema", "").startswith("http://json-schema.org/draft-07"), "schema: declare draft-07")
    print(f"  {len(leaves)} values, {len(documented)} @param comments")
    for msg in f:
        print(f"  {msg}")
    return 1 if f else 0


# ---- rendered-manifest invariants ------------------------------------------------------------------


def pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj.get("spec", {})
    if obj["kind"] == "Pod":
        return spec
    if obj["kind"] == "CronJob":
        return spec["jobTemplate"]["spec"]["template"]["spec"]
    return spec.get("template", {}).get("spec") or {}


def pod_labels(obj: dict[str, Any]) -> dict[str, str]:
    if obj["kind"] == "Pod":
        return obj["metadata"].get("labels", {})
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["metadata"].get("labels", {})
    return obj["spec"]["template"]["metadata"].get("labels", {})


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items()) and not selector.get("matchExpressions")


def http_probe(container: dict[str, Any], probe: str) -> tuple[str | None, Any]:
    get = container.get(probe, {}).get("httpGet", {})
    return get.get("path"), get.get("port")


def check_pod(f: Failures, obj: dict[str, Any], values: dict[str, Any]) -> None:
    """Pod Security Standards "restricted" plus our own rules, for any workload."""
    ref = f"{obj['kind']}/{obj['metadata']['name']}"
    spec = pod_spec(obj)
    labels = pod_labels(obj)
    for label in REQUIRED_LABELS:
        f.check(labels.get(label), f"{ref}: pod template lacks the `{label}` label")
    f.check(labels.get("app.kubernetes.io/part-of") == "uyoop", f"{ref}: pod label part-of must be `uyoop`")
    psc = spec.get("securityContext", {})
    f.check(psc.get("runAsNonRoot") is True, f"{ref}: pod securityContext.runAsNonRoot must be true")
    f.check(
        psc.get("runAsUser") == values["securityContext"]["runAsUser"] and psc.get("runAsUser", 0) > 0,
        f"{ref}: pod runAsUser must be {values['securityContext']['runAsUser']}",
    )
    f.check(
        psc.get("seccompProfile", {}).get("type") == "RuntimeDefault",
        f"{ref}: pod seccompProfile must be RuntimeDefault",
    )
    f.check(spec.get("automountServiceAccountToken") is False, f"{ref}: automountServiceAccountToken must be false")
    f.check(spec.get("serviceAccountName") not in (None, "", "default"), f"{ref}: must run as its own ServiceAccount")
    f.check(spec.get("enableServiceLinks") is False, f"{ref}: enableServiceLinks must be false (UYOOP_* env collisions)")
    for host in ("hostNetwork", "hostPID", "hostIPC"):
        f.check(not spec.get(host), f"{ref}: {host} must not be set")
    for vol in spec.get("volumes", []):
        kinds = set(vol) - {"name"}
        f.check(
            kinds <= RESTRICTED_VOLUMES,
            f"{ref}: volume {vol['name']} has a type outside the restricted profile: {kinds}",
        )
    mounts_tmp = False
    containers = spec.get("containers", []) + spec.get("initContainers", [])
    f.check(spec.get("containers"), f"{ref}: no containers")
    for c in containers:
        cref = f"{ref} container {c['name']}"
        sc = c.get("securityContext", {})
        f.check(sc.get("runAsNonRoot") is True, f"{cref}: runAsNonRoot must be true")
        f.check(sc.get("readOnlyRootFilesystem") is True, f"{cref}: readOnlyRootFilesystem must be true")
        f.check(sc.get("allowPrivilegeEscalation") is False, f"{cref}: allowPrivilegeEscalation must be false")
        f.check(not sc.get("privileged"), f"{cref}: must not be privileged")
        f.check("ALL" in sc.get("capabilities", {}).get("drop", []), f"{cref}: capabilities must drop ALL")
        f.check(not sc.get("capabilities", {}).get("add"), f"{cref}: must add no capability")
        f.check(
            sc.get("seccompProfile", psc.get("seccompProfile", {})).get("type") == "RuntimeDefault",
            f"{cref}: seccomp must be RuntimeDefault",
        )
        res = c.get("resources", {})
        for kind in ("requests", "limits"):
            for name in ("cpu", "memory"):
                f.check(res.get(kind, {}).get(name), f"{cref}: resources.{kind}.{name} missing")
        image = c.get("image", "")
        name_tag = image.split("@")[0]
        tag = name_tag.rsplit(":", 1)[1] if ":" in name_tag.rsplit("/", 1)[-1] else ""
        f.check(tag and tag.lower() != "latest", f"{cref}: image {image!r} must carry a pinned tag, never latest")
        f.check(
            image.startswith(values["image"]["registry"] + "/"),
            f"{cref}: image {image!r} not from registry {values['image']['registry']}",
        )
        if values["image"]["digest"]:
            f.check(image.endswith("@" + values["image"]["digest"]), f"{cref}: image {image!r} must be pinned by digest")
        f.check(c.get("imagePullPolicy") in ("Always", "IfNotPresent"), f"{cref}: imagePullPolicy must be explicit")
        for env in c.get("env", []):
            literal = str(env.get("value", ""))
            f.check(
                not re.search(r"(PASSWORD|SECRET|TOKEN|_URL)$", env["name"]) or "valueFrom" in env,
                f"{cref}: {env['name']} must come from a Secret, not a literal",
            )
            f.check(not re.search(r"://[^/\s]*:[^/\s]*@", literal), f"{cref}: {env['name']} holds credentials in clear")
        for mount in c.get("volumeMounts", []):
            mounts_tmp |= mount["mountPath"] == "/tmp"
    f.check(mounts_tmp, f"{ref}: a writable /tmp emptyDir must be mounted (read-only root filesystem)")


def check_rendered(f: Failures, docs: list[dict[str, Any]], values: dict[str, Any], namespace: str, spec_defaults: bool) -> None:
    """Invariants of one rendered release. `spec_defaults` adds the exact figures of spec 5.4."""
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)

    def one(kind: str) -> dict[str, Any] | None:
        return (by_kind.get(kind) or [None])[0]

    for d in docs:
        ref = f"{d['kind']}/{d['metadata']['name']}"
        labels = d["metadata"].get("labels", {})
        for label in REQUIRED_LABELS + ("app.kubernetes.io/managed-by", "helm.sh/chart", "app.kubernetes.io/version"):
            f.check(labels.get(label), f"{ref}: label `{label}` missing")
        f.check(labels.get("app.kubernetes.io/part-of") == "uyoop", f"{ref}: label part-of must be `uyoop`")
        f.check(labels.get("owner") == values["owner"], f"{ref}: label owner must be {values['owner']!r}")
        f.check(
            d["metadata"].get("namespace") == namespace,
            f"{ref}: namespace {d['metadata'].get('namespace')!r}, expected the release's {namespace!r}",
        )
        f.check(d["kind"] != "Secret", f"{ref}: the chart must not carry Secrets (existingSecret only)")
        if d["kind"] in ("Role", "ClusterRole"):
            for rule in d.get("rules", []):
                for field in ("apiGroups", "resources", "verbs"):
                    f.check("*" not in rule.get(field, []), f"{ref}: wildcard in rules.{field}")
        if d["kind"] in WORKLOAD_KINDS:
            check_pod(f, d, values)
        if d["kind"] == "ServiceAccount":
            f.check(d.get("automountServiceAccountToken") is False, f"{ref}: automountServiceAccountToken must be false")

    deploy = one("Deployment")
    if not f.check(deploy, "no Deployment rendered"):
        return
    pod = pod_spec(deploy)
    labels = pod_labels(deploy)
    app = next((c for c in pod["containers"] if c["name"] == "app"), None)
    if not f.check(app, "Deployment: no `app` container"):
        return
    f.check(app.get("args") == ["serve"], "Deployment: the app container must run `serve`")
    ports = {p["name"]: p["containerPort"] for p in app.get("ports", [])}
    f.check(
        ports == {"http": values["containerPorts"]["http"], "metrics": values["containerPorts"]["metrics"]},
        f"Deployment: container ports {ports}",
    )
    f.check(http_probe(app, "livenessProbe")[0] == "/health", "Deployment: liveness probe must GET /health")
    f.check(http_probe(app, "readinessProbe")[0] == "/ready", "Deployment: readiness probe must GET /ready")
    f.check(http_probe(app, "startupProbe")[0] == "/health", "Deployment: startup probe must GET /health")
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        f.check(
            http_probe(app, probe)[1] in ("http", values["containerPorts"]["http"]),
            f"Deployment: {probe} must target the HTTP port, not metrics",
        )
    strategy = deploy["spec"].get("strategy", {})
    f.check(strategy.get("type") == "RollingUpdate", "Deployment: RollingUpdate strategy expected")
    spread = pod.get("topologySpreadConstraints", [])
    anti = pod.get("affinity", {}).get("podAntiAffinity", {})
    anti_keys = [t.get("topologyKey") for t in anti.get("requiredDuringSchedulingIgnoredDuringExecution", [])]
    anti_keys += [t["podAffinityTerm"].get("topologyKey") for t in anti.get("preferredDuringSchedulingIgnoredDuringExecution", [])]
    f.check(
        any(s["topologyKey"] == "kubernetes.io/hostname" and selects(s["labelSelector"], labels) for s in spread)
        or "kubernetes.io/hostname" in anti_keys,
        "Deployment: replicas are not spread across nodes",
    )
    env = {e["name"]: e for e in app.get("env", [])}
    for name, key in (
        ("UYOOP_DATABASE__URL", values["secrets"]["keys"]["databaseUrl"]),
        ("UYOOP_REDIS__URL", values["secrets"]["keys"]["redisUrl"]),
    ):
        ref = env.get(name, {}).get("valueFrom", {}).get("secretKeyRef", {})
        f.check(
            ref.get("name") == values["secrets"]["existingSecret"] and ref.get("key") == key,
            f"Deployment: {name} must come from Secret {values['secrets']['existingSecret']}/{key}",
        )
    f.check(
        deploy["spec"]["template"]["metadata"].get("annotations", {}).get("checksum/config"),
        "Deployment: checksum/config annotation missing (config changes would not roll the pods)",
    )

    cm = next((c for c in by_kind.get("ConfigMap", []) if c["metadata"]["name"] == deploy["metadata"]["name"]), None)
    if f.check(cm, "no ConfigMap named like the Deployment"):
        data = cm.get("data", {})
        f.check(
            any(e.get("configMapRef", {}).get("name") == cm["metadata"]["name"] for e in app.get("envFrom", [])),
            "Deployment: the ConfigMap is not loaded with envFrom",
        )
        f.check(
            data.get("UYOOP_SERVER__BIND") == f"0.0.0.0:{values['containerPorts']['http']}",
            "ConfigMap: UYOOP_SERVER__BIND",
        )
        f.check(
            data.get("UYOOP_METRICS__BIND") == f"0.0.0.0:{values['containerPorts']['metrics']}",
            "ConfigMap: UYOOP_METRICS__BIND",
        )
        f.check(data.get("UYOOP_LOG__FORMAT") == values["config"]["logFormat"], "ConfigMap: UYOOP_LOG__FORMAT")
        for key, value in data.items():
            f.check(
                re.fullmatch(r"UYOOP_[A-Z0-9]+(__[A-Z0-9_]+)+", key),
                f"ConfigMap: {key} is not a UYOOP_SECTION__KEY name",
            )
            f.check(not re.search(r"://[^/\s]*:[^/\s]*@", value), f"ConfigMap: {key} holds credentials")
        if values["vault"]["enabled"]:
            f.check(data.get("UYOOP_VAULT__ADDR") == values["vault"]["addr"], "ConfigMap: UYOOP_VAULT__ADDR")
            f.check(data.get("UYOOP_VAULT__ROLE") == values["vault"]["role"], "ConfigMap: UYOOP_VAULT__ROLE")
            tokens = [
                s["serviceAccountToken"]
                for v in pod.get("volumes", [])
                for s in v.get("projected", {}).get("sources", [])
                if "serviceAccountToken" in s
            ]
            f.check(
                tokens and all(t.get("audience") == values["vault"]["tokenAudience"] for t in tokens),
                "Deployment: Vault login needs a projected token bound to the Vault audience",
            )

    svc = one("Service")
    if f.check(svc, "no Service rendered"):
        sports = {p["name"]: p for p in svc["spec"]["ports"]}
        f.check(svc["spec"].get("type", "ClusterIP") == "ClusterIP", "Service: must be ClusterIP")
        f.check(
            sports.get("http", {}).get("port") == values["service"]["ports"]["http"]
            and sports["http"].get("targetPort") in ("http", values["containerPorts"]["http"]),
            "Service: http port",
        )
        f.check(
            sports.get("metrics", {}).get("port") == values["service"]["ports"]["metrics"]
            and sports["metrics"].get("targetPort") in ("metrics", values["containerPorts"]["metrics"]),
            "Service: metrics port",
        )
        f.check(selects({"matchLabels": svc["spec"]["selector"]}, labels), "Service: selector does not match the app pods")

    ing = one("Ingress")
    if values["ingress"]["enabled"] and f.check(ing, "no Ingress rendered"):
        ann = ing["metadata"].get("annotations", {})
        f.check(
            ing["spec"].get("ingressClassName") == "nginx" or ing["spec"].get("ingressClassName") == values["ingress"]["className"],
            "Ingress: ingressClassName",
        )
        f.check(
            ann.get("nginx.ingress.kubernetes.io/force-ssl-redirect") == "true",
            'Ingress: force-ssl-redirect must be "true"',
        )
        if values["ingress"]["certManager"]["enabled"]:
            f.check(
                ann.get("cert-manager.io/cluster-issuer") or ann.get("cert-manager.io/issuer"),
                "Ingress: cert-manager issuer annotation missing",
            )
        f.check(not any("snippet" in k for k in ann), "Ingress: snippet annotations are forbidden")
        hosts = [r["host"] for r in ing["spec"]["rules"]]
        tls_hosts = [h for t in ing["spec"].get("tls", []) for h in t.get("hosts", [])]
        f.check(
            hosts and set(hosts) <= set(tls_hosts) and all(t.get("secretName") for t in ing["spec"]["tls"]),
            "Ingress: every host must be covered by TLS",
        )
        for rule in ing["spec"]["rules"]:
            for p in rule["http"]["paths"]:
                port = p["backend"]["service"]["port"]
                f.check(
                    port.get("name") == "http" or port.get("number") == values["service"]["ports"]["http"],
                    f"Ingress: a path routes to {port}: only the HTTP port may be exposed, never metrics",
                )

    hpa = one("HorizontalPodAutoscaler")
    if values["autoscaling"]["enabled"]:
        if f.check(hpa and hpa["apiVersion"] == "autoscaling/v2", "no autoscaling/v2 HorizontalPodAutoscaler rendered"):
            spec = hpa["spec"]
            targets = {m["resource"]["name"]: m["resource"]["target"]["averageUtilization"] for m in spec["metrics"] if m["type"] == "Resource"}
            a = values["autoscaling"]
            f.check(
                spec["minReplicas"] == a["minReplicas"] >= 3 and spec["maxReplicas"] == a["maxReplicas"] >= spec["minReplicas"],
                f"HPA: bounds {spec['minReplicas']}-{spec['maxReplicas']}",
            )
            f.check(
                targets == {"cpu": a["targetCPUUtilizationPercentage"], "memory": a["targetMemoryUtilizationPercentage"]},
                f"HPA: targets {targets}",
            )
            f.check(
                spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": deploy["metadata"]["name"]},
                "HPA: scaleTargetRef",
            )
            f.check("replicas" not in deploy["spec"], "Deployment: `replicas` must be left to the HPA")
    else:
        f.check(hpa is None, "HPA rendered while autoscaling is disabled")
        f.check(deploy["spec"].get("replicas") == values["replicaCount"], "Deployment: replicas must equal replicaCount")

    pdb = one("PodDisruptionBudget")
    if values["pdb"]["enabled"] and f.check(pdb, "no PodDisruptionBudget rendered"):
        f.check(selects(pdb["spec"]["selector"], labels), "PDB: selector does not match the app pods")
        floor = values["autoscaling"]["minReplicas"] if values["autoscaling"]["enabled"] else values["replicaCount"]
        min_avail = pdb["spec"].get("minAvailable")
        f.check(
            (isinstance(min_avail, int) and min_avail < floor) or pdb["spec"].get("maxUnavailable") not in (None, 0),
            "PDB: must leave room for one voluntary eviction (a node drain), yet keep replicas up",
        )

    if values["networkPolicy"]["enabled"]:
        check_network_policies(f, by_kind.get("NetworkPolicy", []), docs, values)

    sm = one("ServiceMonitor")
    if values["serviceMonitor"]["enabled"]:
        if f.check(sm and sm["apiVersion"] == "monitoring.coreos.com/v1", "no monitoring.coreos.com/v1 ServiceMonitor rendered"):
            eps = sm["spec"]["endpoints"]
            f.check(
                eps and all(e.get("port") == "metrics" and e.get("path") == "/metrics" for e in eps),
                "ServiceMonitor: must scrape port `metrics` at /metrics",
            )
            f.check(
                svc and selects(sm["spec"]["selector"], svc["metadata"]["labels"]),
                "ServiceMonitor: selector does not match the Service",
            )
            f.check(
                sm["spec"].get("namespaceSelector", {}).get("matchNames") == [namespace],
                "ServiceMonitor: namespaceSelector must be the release namespace",
            )
    else:
        f.check(sm is None, "ServiceMonitor rendered while disabled")

    jobs = by_kind.get("Job", [])
    if values["migration"]["enabled"] and f.check(len(jobs) == 1, "expected one migration Job"):
        job = jobs[0]
        ann = job["metadata"].get("annotations", {})
        f.check(
            set(ann.get("helm.sh/hook", "").split(",")) == {"pre-install", "pre-upgrade"},
            "Job: must be a pre-install,pre-upgrade hook",
        )
        f.check(
            "before-hook-creation" in ann.get("helm.sh/hook-delete-policy", ""),
            "Job: hook-delete-policy must include before-hook-creation",
        )
        c = pod_spec(job)["containers"][0]
        f.check(c.get("args") == ["migrate"], "Job: must run `migrate`")
        f.check(c["image"] == app["image"], "Job: must run the app's image")
        f.check(pod_spec(job).get("restartPolicy") == "Never", "Job: restartPolicy Never")
        f.check(
            job["spec"].get("activeDeadlineSeconds") and job["spec"].get("backoffLimit") is not None,
            "Job: needs activeDeadlineSeconds and backoffLimit",
        )
        sa_name = pod_spec(job)["serviceAccountName"]
        sa = next((s for s in by_kind.get("ServiceAccount", []) if s["metadata"]["name"] == sa_name), None)
        # On a first install only hooks exist when the Job starts: its ServiceAccount must be a hook too, created earlier.
        f.check(
            sa
            and "pre-install" in sa["metadata"].get("annotations", {}).get("helm.sh/hook", "")
            and int(sa["metadata"]["annotations"].get("helm.sh/hook-weight", "0")) < int(ann.get("helm.sh/hook-weight", "0")),
            "Job: its ServiceAccount must be a pre-install hook of a lower weight",
        )

    if spec_defaults:
        # Spec 5.4 figures, for the chart's own defaults.
        res = app["resources"]
        f.check(
            (res["requests"]["cpu"], res["requests"]["memory"], res["limits"]["cpu"], res["limits"]["memory"]) == ("200m", "256Mi", "500m", "512Mi"),
            f"spec 5.4: resources requests 200m/256Mi limits 500m/512Mi, got {res}",
        )
        if f.check(hpa, "spec 5.4: an HPA by default"):
            f.check((hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 10), "spec 5.4: HPA 3-10")
        f.check(values["replicaCount"] == 3, "spec 5.4: 3 replicas by default")
        f.check(values["networkPolicy"]["enabled"] and values["pdb"]["enabled"], "network policies and PDB on by default")
        f.check(pod.get("securityContext", {}).get("runAsUser") == 1000, "spec 5.4: runAsUser 1000")


def check_network_policies(f: Failures, nps: list[dict[str, Any]], docs: list[dict[str, Any]], values: dict[str, Any]) -> None:
    hooks = [n for n in nps if "helm.sh/hook" in n["metadata"].get("annotations", {})]
    regular = [n for n in nps if n not in hooks]
    deny = [
        n
        for n in regular
        if set(n["spec"].get("policyTypes", [])) == {"Ingress", "Egress"} and not n["spec"].get("ingress") and not n["spec"].get("egress")
    ]
    f.check(deny, "NetworkPolicy: no default-deny (Ingress+Egress, no rules) policy")
    for w in (d for d in docs if d["kind"] in WORKLOAD_KINDS):
        labels = pod_labels(w)
        f.check(
            any(selects(n["spec"]["podSelector"], labels) for n in deny),
            f"NetworkPolicy: {w['kind']}/{w['metadata']['name']} pods are not covered by the default deny",
        )
        # Each workload also needs an egress allow-list of its own, or it cannot reach DNS and PostgreSQL.
        selecting = [n for n in nps if selects(n["spec"]["podSelector"], labels) and n["spec"].get("egress")]
        f.check(selecting, f"NetworkPolicy: {w['kind']}/{w['metadata']['name']} pods have no egress allow rule")
        egress_ports = {(p.get("protocol", "TCP"), p["port"]) for n in selecting for r in n["spec"]["egress"] for p in r.get("ports", [])}
        needed = {("UDP", 53), ("TCP", values["networkPolicy"]["egress"]["postgresql"]["port"])}
        f.check(
            needed <= egress_ports,
            f"NetworkPolicy: {w['metadata']['name']} lacks egress to DNS or PostgreSQL ({egress_ports})",
        )
    for n in nps:
        ref = f"NetworkPolicy/{n['metadata']['name']}"
        for rule in n["spec"].get("ingress", []):
            f.check(
                rule.get("from") and rule.get("ports"),
                f"{ref}: an ingress rule without `from` or `ports` admits everything",
            )
        for rule in n["spec"].get("egress", []):
            f.check(rule.get("ports"), f"{ref}: an egress rule without `ports` opens every port")
    app_pods = next((pod_labels(d) for d in docs if d["kind"] == "Deployment"), {})
    ingress_rules = [(r, p) for n in regular if selects(n["spec"]["podSelector"], app_pods) for r in n["spec"].get("ingress", []) for p in r["ports"]]
    by_port: dict[Any, list[dict[str, Any]]] = {}
    for rule, port in ingress_rules:
        by_port.setdefault(port["port"], []).extend(rule["from"])
    http, metrics = values["containerPorts"]["http"], values["containerPorts"]["metrics"]
    f.check(
        set(by_port) == {http, metrics},
        f"NetworkPolicy: ingress opens ports {sorted(by_port)}, expected {http} and {metrics} only",
    )
    f.check(
        by_port.get(http) == values["networkPolicy"]["ingress"]["controller"],
        f"NetworkPolicy: port {http} must admit the ingress controller only",
    )
    f.check(
        by_port.get(metrics) == values["networkPolicy"]["ingress"]["monitoring"],
        f"NetworkPolicy: port {metrics} must admit monitoring only",
    )
    egress = {
        (p.get("protocol", "TCP"), p["port"])
        for n in regular
        if selects(n["spec"]["podSelector"], app_pods)
        for r in n["spec"].get("egress", [])
        for p in r["ports"]
    }
    e = values["networkPolicy"]["egress"]
    wanted = {("UDP", 53), ("TCP", 53), ("TCP", e["postgresql"]["port"]), ("TCP", e["redis"]["port"])}
    if values["vault"]["enabled"]:
        wanted.add(("TCP", e["vault"]["port"]))
    if e["smtp"]["enabled"]:
        wanted |= {("TCP", p) for p in e["smtp"]["ports"]}
    if e["webhooks"]["enabled"]:
        wanted |= {("TCP", p) for p in e["webhooks"]["ports"]}
    wanted |= {(p.get("protocol", "TCP"), p["port"]) for r in e["extra"] for p in r.get("ports", [])}
    f.check(
        egress == wanted,
        f"NetworkPolicy: app egress ports {sorted(egress)} differ from the configured {sorted(wanted)}",
    )


def cmd_assert(chart_dir: Path, out: Path, case: str) -> int:
    chart = helm.Chart.load(chart_dir)
    values = chart.merge_values(case_values(chart_dir, case))
    docs = objects({p.name: p.read_text() for p in sorted((out / case).glob("*.yaml"))})
    f = Failures()
    f.check(docs, f"nothing rendered in {out / case}")
    check_rendered(f, docs, values, NAMESPACE, spec_defaults=(case == "default"))
    if case == "example-site":
        f.check(values["image"]["digest"], "example site: production images must be pinned by digest")
        f.check(
            values["ingress"]["host"] == "uyoop.example.com" and values["image"]["registry"] == "harbor.example.com",
            "example site: domain uyoop.example.com and registry harbor.example.com expected",
        )
    f.check((out / case / "NOTES.txt").exists(), "NOTES.txt not rendered")
    print(f"  {len(docs)} objects: {', '.join(sorted(d['kind'] + '/' + d['metadata']['name'] for d in docs))}")
    for msg in f:
        print(f"  {msg}")
    return 1 if f else 0


def cmd_variants(chart_dir: Path) -> int:
    chart = helm.Chart.load(chart_dir)
    f = Failures()

    def run(
        name: str,
        over: dict[str, Any],
        extra: Callable[[list[dict[str, Any]]], object] | None = None,
        release: str = RELEASE,
        namespace: str = NAMESPACE,
    ) -> None:
        before = len(f)
        try:
            docs = objects(render(chart, over, name=release, namespace=namespace))
        except helm.HelmError as err:
            f.append(f"{name}: render failed: {err}")
            return
        check_rendered(f, docs, chart.merge_values(over), namespace, spec_defaults=False)
        if extra:
            extra(docs)
        print(f"  {'ok  ' if len(f) == before else 'FAIL'} {name}")

    def refused(name: str, over: dict[str, Any], fragment: str) -> None:
        try:
            render(chart, over)
        except helm.HelmError as err:
            ok = f.check(fragment in str(err), f"{name}: refused, but the error does not say {fragment!r}: {err}")
        else:
            ok = f.check(False, f"{name}: rendered, should have been refused")
        print(f"  {'ok  ' if ok else 'FAIL'} {name}")

    def kinds(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
        return [d for d in docs if d["kind"] == kind]

    def deployment(docs: list[dict[str, Any]]) -> dict[str, Any]:
        return kinds(docs, "Deployment")[0]

    def checksum(over: dict[str, Any]) -> str:
        return deployment(objects(render(chart, over)))["spec"]["template"]["metadata"]["annotations"]["checksum/config"]

    run("autoscaling off: 3 fixed replicas", {"autoscaling": {"enabled": False}})
    run(
        "another release and namespace: no hard-coded names or namespaces",
        {},
        release="prod",
        namespace="uyoop-prod",
        extra=lambda docs: f.check(
            all(d["metadata"]["name"].startswith("prod-uyoop-cal") for d in docs),
            "release prod: names must start with prod-uyoop-cal",
        ),
    )
    run(
        "hard anti-affinity",
        {"podAntiAffinity": "hard", "topologySpread": {"enabled": False}},
        extra=lambda docs: f.check(
            pod_spec(deployment(docs))["affinity"]["podAntiAffinity"].get("requiredDuringSchedulingIgnoredDuringExecution"),
            "hard anti-affinity not rendered",
        ),
    )
    run(
        "vault off: no token volume, no 8200 egress",
        {"vault": {"enabled": False}},
        extra=lambda docs: f.check(
            not any("projected" in v for v in pod_spec(deployment(docs)).get("volumes", [])),
            "vault off: projected token still mounted",
        ),
    )
    run(
        "pdb minAvailable",
        {"pdb": {"minAvailable": 2}},
        extra=lambda docs: f.check(
            kinds(docs, "PodDisruptionBudget")[0]["spec"].get("minAvailable") == 2
            and "maxUnavailable" not in kinds(docs, "PodDisruptionBudget")[0]["spec"],
            "pdb.minAvailable not rendered alone",
        ),
    )
    run(
        "no migration hook, no ingress, serviceMonitor on",
        {"migration": {"enabled": False}, "ingress": {"enabled": False}, "serviceMonitor": {"enabled": True}},
        extra=lambda docs: f.check(not kinds(docs, "Job") and not kinds(docs, "Ingress"), "disabled Job/Ingress still rendered"),
    )
    run(
        "digest pinned: IfNotPresent",
        {"image": {"digest": "sha256:" + "a" * 64}},
        extra=lambda docs: f.check(
            pod_spec(deployment(docs))["containers"][0]["imagePullPolicy"] == "IfNotPresent",
            "digest: pull policy should be IfNotPresent",
        ),
    )
    run(
        "tag only: Always, tag = appVersion",
        {},
        extra=lambda docs: f.check(
            pod_spec(deployment(docs))["containers"][0]["image"].endswith(":" + chart.metadata["appVersion"])
            and pod_spec(deployment(docs))["containers"][0]["imagePullPolicy"] == "Always",
            "tag-only image: appVersion tag with Always",
        ),
    )
    ok = f.check(
        checksum({"config": {"logFilter": "debug"}}) != checksum({}),
        "a config change must change checksum/config (rolling restart)",
    )
    print(f"  {'ok  ' if ok else 'FAIL'} config change rolls the pods (checksum/config)")
    refused("image tag latest refused", {"image": {"tag": "latest"}}, "/image/tag")
    refused(
        "grace period shorter than preStop + drain refused",
        {"terminationGracePeriodSeconds": 8, "preStopSleepSeconds": 5},
        "terminationGracePeriodSeconds",
    )
    refused("HPA min above max refused", {"autoscaling": {"minReplicas": 6, "maxReplicas": 4}}, "minReplicas")
    refused(
        "serviceAccount.create false without a name refused",
        {"serviceAccount": {"create": False}},
        "serviceAccount.name",
    )
    for msg in f:
        print(f"  {msg}")
    return 1 if f else 0


def cmd_templates(chart_dir: Path) -> int:
    """No namespace written in a template: every `namespace:` takes .Release.Namespace."""
    bad = []
    for tpl in sorted((chart_dir / "templates").glob("*")):
        for n, line in enumerate(tpl.read_text().splitlines(), 1):
            if re.search(r"\bnamespace:\s*\S", line) and ".Release.Namespace" not in line:
                bad.append(f"{tpl.name}:{n}: {line.strip()}")
            if re.search(r"-\s*\{\{\s*\.Release\.Namespace", line) is None and re.search(r"matchNames:\s*\[?\s*[a-z]", line):
                bad.append(f"{tpl.name}:{n}: {line.strip()}")
    for b in bad:
        print(f"  hard-coded namespace: {b}")
    return 1 if bad else 0


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(__doc__)
        return 2
    cmd, chart_dir = argv[1], Path(argv[2])
    commands: dict[str, Callable[[], int]] = {
        "render": lambda: cmd_render(chart_dir, Path(argv[3])),
        "lint": lambda: cmd_lint(chart_dir, argv[3]),
        "schema": lambda: cmd_schema(chart_dir),
        "badvalues": lambda: cmd_badvalues(chart_dir, Path(argv[3])),
        "docs": lambda: cmd_docs(chart_dir),
        "assert": lambda: cmd_assert(chart_dir, Path(argv[3]), argv[4]),
        "variants": lambda: cmd_variants(chart_dir),
        "templates": lambda: cmd_templates(chart_dir),
    }
    if cmd not in commands:
        print(__doc__)
        return 2
    try:
        return commands[cmd]()
    except helm.HelmError as err:
        print(f"  helm: {err}")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
