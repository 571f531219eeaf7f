//! `uyoop-install policy-check`: the Gatekeeper policies on real manifests.
//!
//! - the example site's own objects (manifests K3s deploys, backup CronJobs) pass the constraints
//!   the site deploys, the workloads among them are reviewed, the HelmCharts are reported as
//!   wrappers;
//! - every disallowed sample of `policies/` is denied by its own policy through the CLI's
//!   matching, every allowed sample passes every policy (the same verdicts as
//!   `tests/policies.rs`, which evaluates the Rego without the constraint's `match`);
//! - the CLI prints `kind/namespace/name: policy: message` and exits 1 on a violation;
//! - `match` follows Gatekeeper: kinds, excluded namespaces with globs, namespaces, Namespace
//!   objects by name, label and namespace selectors.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;
use uyoop_install::policy::{self, Manifests};
use uyoop_install::render::kubernetes::CHARTS;

use crate::helpers::{example, render_into, repo};

fn read(paths: &[PathBuf]) -> Manifests {
    Manifests::read(paths, "default").unwrap()
}

#[test]
fn example_site_objects_pass_the_site_constraints() {
    let dir = tempfile::tempdir().unwrap();
    let config = example();
    render_into(&config, dir.path(), false);
    let manifests = read(&[dir.path().join("kubernetes"), dir.path().join("backups")]);

    // The policies as the site writes them, and as `-c uyoop.yaml` derives them: same verdicts.
    for mut policies in [
        policy::from_dir(&dir.path().join("policies")).unwrap(),
        policy::for_site(&config).unwrap(),
    ] {
        assert_eq!(policies.len(), 9);
        let report = policy::evaluate(&mut policies, &manifests).unwrap();
        let lines: Vec<String> = report.violations.iter().map(ToString::to_string).collect();
        assert!(lines.is_empty(), "violations:\n{}", lines.join("\n"));
        let reviewed: Vec<&str> = report.reviewed.iter().map(|(o, _)| o.as_str()).collect();
        for want in [
            "CronJob/postgres/postgres-basebackup",
            "CronJob/vault/vault-snapshot",
        ] {
            assert!(reviewed.contains(&want), "{want} not reviewed: {reviewed:?}");
        }
        assert_eq!(report.helm_charts.len(), CHARTS.len(), "{:?}", report.helm_charts);
    }
}

#[test]
fn the_site_constraints_carry_the_site_registries() {
    let policies = policy::for_site(&example()).unwrap();
    let images = policies.iter().find(|p| p.name == "allowed-images").unwrap();
    assert_eq!(
        images.constraint["spec"]["parameters"]["registries"],
        json!(["harbor.example.com/uyoop/"]),
        "a mirrored site allows its own registry only"
    );
    // Every prefix ends with `/`: the policy compares repository paths.
    let mut config = example();
    config.registry.mirror = false;
    for r in policy::for_site(&config)
        .unwrap()
        .iter()
        .find(|p| p.name == "allowed-images")
        .unwrap()
        .constraint["spec"]["parameters"]["registries"]
        .as_array()
        .unwrap()
    {
        assert!(r.as_str().unwrap().ends_with('/'), "{r}");
    }
}

fn samples(which: &str) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for policy in std::fs::read_dir(repo().join("policies")).unwrap() {
        let policy = policy.unwrap().path();
        let dir = policy.join("samples").join(which);
        if !dir.is_dir() {
            continue;
        }
        let name = policy.file_name().unwrap().to_string_lossy().into_owned();
        for f in std::fs::read_dir(&dir).unwrap() {
            out.push((name.clone(), f.unwrap().path()));
        }
    }
    out.sort();
    assert!(out.len() > 10, "{which}: {out:?}");
    out
}

#[test]
fn every_disallowed_sample_is_denied_by_its_policy() {
    let mut policies = policy::embedded().unwrap();
    let mut failures = Vec::new();
    for (name, path) in samples("disallowed") {
        let report = policy::evaluate(&mut policies, &read(std::slice::from_ref(&path))).unwrap();
        if !report.violations.iter().any(|v| v.policy == name) {
            failures.push(format!("{}: not denied by {name}", path.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_allowed_sample_passes_every_policy() {
    let mut policies = policy::embedded().unwrap();
    let paths: Vec<PathBuf> = samples("allowed").into_iter().map(|(_, p)| p).collect();
    let report = policy::evaluate(&mut policies, &read(&paths)).unwrap();
    let lines: Vec<String> = report.violations.iter().map(ToString::to_string).collect();
    assert!(lines.is_empty(), "{}", lines.join("\n"));
    assert!(report.reviewed.len() >= paths.len(), "{:?}", report.reviewed);
}

const BAD: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: bad
  labels: {app.kubernetes.io/name: bad, app.kubernetes.io/part-of: uyoop, owner: me}
spec:
  selector: {matchLabels: {app: bad}}
  template:
    metadata:
      labels: {app.kubernetes.io/name: bad, app.kubernetes.io/part-of: uyoop, owner: me}
    spec:
      containers:
        - name: app
          image: registry.uyoop.local/uyoop/bad:1.0
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {drop: [ALL]}
            seccompProfile: {type: RuntimeDefault}
          resources:
            requests: {cpu: 10m, memory: 16Mi}
            limits: {cpu: 100m, memory: 64Mi}
"#;

fn policy_check(args: &[&str], dir: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_uyoop-install"))
        .current_dir(dir)
        .arg("policy-check")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn cli_reports_each_violation_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.yaml"), BAD).unwrap();
    let (code, out, err) = policy_check(&["bad.yaml"], dir.path());
    assert_eq!(code, 1, "{out}{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "Deployment/default/bad: psp-non-root: container \"app\" of Deployment \"bad\" must set \
         securityContext.runAsNonRoot: true (on the container or the pod)",
        "{out}"
    );
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[1]
            .starts_with("policy-check: 1 object(s) in 1 file(s), 1 reviewed by 9 policies: 1 violation(s)"),
        "{out}"
    );

    // The same object in a namespace the constraints exclude is not reviewed; -n sets the
    // namespace of objects that name none.
    let (code, out, _) = policy_check(&["-n", "kube-system", "bad.yaml"], dir.path());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0 reviewed by 9 policies: 0 violation(s)"), "{out}");

    // Fixed, it passes; `-` reads standard input.
    let good = BAD.replace(
        "          securityContext:\n",
        "          securityContext:\n            runAsNonRoot: true\n",
    );
    std::fs::write(dir.path().join("good.yaml"), &good).unwrap();
    let (code, out, _) = policy_check(&["-v", "good.yaml"], dir.path());
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("reviewed Deployment/default/bad (8 policies)"),
        "{out}"
    );
}

#[test]
fn cli_names_a_broken_file_and_skips_chart_sources() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("broken.yaml"), "kind: [unclosed\n").unwrap();
    let (code, _, err) = policy_check(&["broken.yaml"], dir.path());
    assert_eq!(code, 1);
    assert!(err.contains("broken.yaml:"), "{err}");

    let chart = repo().join("helm");
    let (code, out, err) = policy_check(&[chart.to_str().unwrap()], dir.path());
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("note: skipped the Helm chart sources in"), "{out}");
}

fn object(value: &serde_json::Value) -> policy::Object {
    let mut m = Manifests::default();
    m.add_text("t.yaml", &serde_json::to_string(value).unwrap(), "default")
        .unwrap();
    m.objects.pop().unwrap()
}

#[test]
fn match_follows_gatekeeper() {
    let none = BTreeMap::new();
    let pod = |ns: &str, labels: serde_json::Value| {
        object(
            &json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": ns, "labels": labels}}),
        )
    };
    let c = |m: serde_json::Value| json!({"spec": {"match": m}});
    let kinds = json!([{"apiGroups": [""], "kinds": ["Pod"]}]);

    assert!(policy::matches(&c(json!({})), &pod("a", json!({})), &none));
    assert!(policy::matches(
        &c(json!({"kinds": kinds})),
        &pod("a", json!({})),
        &none
    ));
    let deploy = object(&json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}}));
    assert!(!policy::matches(&c(json!({"kinds": kinds})), &deploy, &none));
    assert_eq!(deploy.namespace, "default");

    let excluded = c(json!({"excludedNamespaces": ["kube-*", "*-system", "velero"]}));
    for ns in ["kube-public", "gatekeeper-system", "velero"] {
        assert!(!policy::matches(&excluded, &pod(ns, json!({})), &none), "{ns}");
    }
    assert!(policy::matches(&excluded, &pod("uyoop", json!({})), &none));

    let only = c(json!({"namespaces": ["uyoop"]}));
    assert!(policy::matches(&only, &pod("uyoop", json!({})), &none));
    assert!(!policy::matches(&only, &pod("redis", json!({})), &none));
    // A Namespace is matched by its own name; other cluster-scoped objects pass.
    let namespace = object(&json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "redis"}}));
    assert!(!policy::matches(&only, &namespace, &none));
    let role = object(
        &json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "r"}}),
    );
    assert_eq!(role.namespace, "");
    assert!(policy::matches(&only, &role, &none));
    assert!(!policy::matches(&c(json!({"scope": "Namespaced"})), &role, &none));

    let selected = c(
        json!({"labelSelector": {"matchLabels": {"tier": "web"}, "matchExpressions": [{"key": "legacy", "operator": "DoesNotExist"}]}}),
    );
    assert!(policy::matches(
        &selected,
        &pod("a", json!({"tier": "web"})),
        &none
    ));
    assert!(!policy::matches(
        &selected,
        &pod("a", json!({"tier": "web", "legacy": "1"})),
        &none
    ));
    assert!(!policy::matches(&selected, &pod("a", json!({})), &none));

    let mut namespaces = BTreeMap::new();
    namespaces.insert(
        "a".to_owned(),
        BTreeMap::from([("env".to_owned(), "prod".to_owned())]),
    );
    let by_ns = c(
        json!({"namespaceSelector": {"matchExpressions": [{"key": "env", "operator": "In", "values": ["prod"]}]}}),
    );
    assert!(policy::matches(&by_ns, &pod("a", json!({})), &namespaces));
    assert!(!policy::matches(&by_ns, &pod("b", json!({})), &namespaces));
}
