//! The Gatekeeper policies under `policies/`, evaluated by regorus, the Rego v1 engine we can run
//! here (there is no `opa` binary). For every policy folder:
//!
//! - `src.rego` and `src_test.rego` parse as Rego v1 and every `test_*` rule evaluates to true;
//! - `template.yaml` embeds exactly `src.rego` as Rego v1 for Gatekeeper's admission target, and
//!   `constraint.yaml` instantiates the kind it declares with parameters its schema knows;
//! - every sample under `samples/allowed/` yields no violation, and every sample under
//!   `samples/disallowed/` at least one, including each message its `# expect-violation:` lines name;
//! - allowed samples also pass every other policy whose constraint matches their kind, so the set
//!   as a whole admits a compliant workload (a policy that nothing could satisfy fails here).
//!
//! Samples are plain Kubernetes objects; they reach the Rego as Gatekeeper builds its input:
//! `{"review": {"object": <sample>, "kind": ..., "operation": "CREATE", ...}, "parameters":
//! <constraint.yaml spec.parameters>}`.
#![allow(
    clippy::expect_used,
    reason = "helpers outside #[test] fns, where clippy.toml's test exemption does not reach; \
              a panic naming the file is the failure report"
)]

use std::fs;
use std::path::{Path, PathBuf};

use regorus::{Engine, Value};
use serde_norway::{Mapping, Value as Yaml};

/// Gatekeeper's validating admission target.
const ADMISSION_TARGET: &str = "admission.k8s.gatekeeper.sh";
/// Marks a disallowed sample's expected message: `# expect-violation: <substring>`.
const EXPECT_PREFIX: &str = "# expect-violation:";
/// Delimit the pod helpers that every pod policy repeats (Gatekeeper templates cannot import).
const SHARED_BEGIN: &str = "# BEGIN shared pod helpers";
const SHARED_END: &str = "# END shared pod helpers";

/// One folder under `policies/`.
struct Policy {
    name: String,
    dir: PathBuf,
    package: String,
    src: String,
    tests: String,
    template: Yaml,
    constraint: Yaml,
}

/// One sample object with what a disallowed one must be denied for.
struct Sample {
    path: PathBuf,
    object: Yaml,
    expected: Vec<String>,
}

fn policies_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../policies")
        .canonicalize()
        .expect("policies/ exists beside installer/")
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn read_yaml(path: &Path) -> Yaml {
    serde_norway::from_str(&read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The package a Rego module declares (`package k8sfoo` -> `k8sfoo`).
fn package_of(rego: &str) -> Option<String> {
    rego.lines()
        .find_map(|l| l.strip_prefix("package "))
        .map(|p| p.trim().to_owned())
}

/// Every policy folder, sorted by name.
fn load_policies() -> Vec<Policy> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(policies_dir())
        .expect("policies/ is readable")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty(), "no policy folder under policies/");
    dirs.into_iter()
        .map(|dir| {
            let src = read(&dir.join("src.rego"));
            Policy {
                name: dir
                    .file_name()
                    .expect("folder name")
                    .to_string_lossy()
                    .into_owned(),
                package: package_of(&src)
                    .unwrap_or_else(|| panic!("{}: src.rego has no package", dir.display())),
                tests: read(&dir.join("src_test.rego")),
                template: read_yaml(&dir.join("template.yaml")),
                constraint: read_yaml(&dir.join("constraint.yaml")),
                src,
                dir,
            }
        })
        .collect()
}

/// The YAML files of `samples/<which>/`, sorted.
fn load_samples(policy: &Policy, which: &str) -> Vec<Sample> {
    let dir = policy.dir.join("samples").join(which);
    let mut paths: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = read(&path);
            let expected = text
                .lines()
                .filter_map(|l| l.strip_prefix(EXPECT_PREFIX))
                .map(|s| s.trim().to_owned())
                .collect();
            let object = serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            Sample {
                path,
                object,
                expected,
            }
        })
        .collect()
}

/// Follows a path of mapping keys; `None` when any step is missing.
fn get<'a>(value: &'a Yaml, keys: &[&str]) -> Option<&'a Yaml> {
    keys.iter().try_fold(value, |v, k| v.get(*k))
}

fn get_str<'a>(value: &'a Yaml, keys: &[&str]) -> Option<&'a str> {
    get(value, keys).and_then(Yaml::as_str)
}

fn mapping(entries: Vec<(&str, Yaml)>) -> Yaml {
    let mut m = Mapping::new();
    for (k, v) in entries {
        m.insert(Yaml::from(k), v);
    }
    Yaml::Mapping(m)
}

/// The input Gatekeeper gives a template's Rego when it reviews `object` under `constraint`.
fn gatekeeper_input(object: &Yaml, constraint: &Yaml) -> Value {
    let api_version = get_str(object, &["apiVersion"]).unwrap_or("v1");
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let kind = get_str(object, &["kind"]).unwrap_or_default();
    let review = mapping(vec![
        (
            "kind",
            mapping(vec![
                ("group", Yaml::from(group)),
                ("version", Yaml::from(version)),
                ("kind", Yaml::from(kind)),
            ]),
        ),
        ("operation", Yaml::from("CREATE")),
        (
            "name",
            get(object, &["metadata", "name"]).cloned().unwrap_or_default(),
        ),
        (
            "namespace",
            get(object, &["metadata", "namespace"])
                .cloned()
                .unwrap_or_default(),
        ),
        ("object", object.clone()),
    ]);
    let parameters = get(constraint, &["spec", "parameters"])
        .cloned()
        .unwrap_or_else(|| Yaml::Mapping(Mapping::new()));
    let input = mapping(vec![("review", review), ("parameters", parameters)]);
    serde_norway::from_value(input).expect("a YAML document converts to a Rego value")
}

/// A fresh engine (Rego v1, the regorus default) with the policy's source loaded.
fn engine_for(policy: &Policy) -> Engine {
    let mut engine = Engine::new();
    engine
        .add_policy(format!("{}/src.rego", policy.name), policy.src.clone())
        .unwrap_or_else(|e| panic!("{}: src.rego does not parse as Rego v1: {e:#}", policy.name));
    engine
}

/// The `msg` of every violation `policy` reports for `object`; an error names what went wrong.
fn violations(engine: &mut Engine, policy: &Policy, object: &Yaml) -> Result<Vec<String>, String> {
    engine.set_input(gatekeeper_input(object, &policy.constraint));
    let result = engine
        .eval_rule(format!("data.{}.violation", policy.package))
        .map_err(|e| format!("evaluation failed: {e:#}"))?;
    if result == Value::Undefined {
        return Ok(Vec::new());
    }
    let set = result
        .as_set()
        .map_err(|_| format!("violation is not a set: {result}"))?;
    set.iter()
        .map(|v| match &v["msg"] {
            Value::String(s) if !s.is_empty() => Ok(s.to_string()),
            _ => Err(format!("violation without a message: {v}")),
        })
        .collect()
}

/// Whether `constraint` (its `spec.match.kinds`) applies to objects like `object`.
fn constraint_matches(constraint: &Yaml, object: &Yaml) -> bool {
    let api_version = get_str(object, &["apiVersion"]).unwrap_or("v1");
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    let kind = get_str(object, &["kind"]).unwrap_or_default();
    let Some(Yaml::Sequence(kinds)) = get(constraint, &["spec", "match", "kinds"]) else {
        return true; // no kinds: Gatekeeper matches everything
    };
    let has = |list: Option<&Yaml>, want: &str| {
        list.and_then(Yaml::as_sequence).is_some_and(|items| {
            items
                .iter()
                .filter_map(Yaml::as_str)
                .any(|s| s == want || s == "*")
        })
    };
    kinds
        .iter()
        .any(|k| has(k.get("apiGroups"), group) && has(k.get("kinds"), kind))
}

/// The names of the `test_*` rules a test module defines.
fn test_rule_names(tests: &str) -> Vec<String> {
    let mut names: Vec<String> = tests
        .lines()
        .filter(|l| l.starts_with("test_"))
        .map(|l| {
            l.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        })
        .collect();
    names.dedup();
    names
}

fn assert_no_failures(failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_policy_folder_is_complete() {
    let mut failures = Vec::new();
    for policy in load_policies() {
        for which in ["allowed", "disallowed"] {
            if load_samples(&policy, which).is_empty() {
                failures.push(format!("{}: no samples/{which}/*.yaml", policy.name));
            }
        }
        if test_rule_names(&policy.tests).len() < 2 {
            failures.push(format!("{}: fewer than 2 test_* rules", policy.name));
        }
        if package_of(&policy.tests).as_deref() != Some(policy.package.as_str()) {
            failures.push(format!(
                "{}: src_test.rego must be in package {}",
                policy.name, policy.package
            ));
        }
    }
    assert_no_failures(&failures);
}

#[test]
fn rego_unit_tests_pass() {
    let mut failures = Vec::new();
    let mut ran = 0;
    for policy in load_policies() {
        let mut engine = engine_for(&policy);
        if let Err(e) = engine.add_policy(format!("{}/src_test.rego", policy.name), policy.tests.clone()) {
            failures.push(format!(
                "{}: src_test.rego does not parse as Rego v1: {e:#}",
                policy.name
            ));
            continue;
        }
        for test in test_rule_names(&policy.tests) {
            ran += 1;
            match engine.eval_rule(format!("data.{}.{test}", policy.package)) {
                Ok(Value::Bool(true)) => {}
                Ok(Value::Undefined) => failures.push(format!(
                    "{}: {test} is undefined (one of its conditions is false)",
                    policy.name
                )),
                Ok(other) => failures.push(format!("{}: {test} = {other}", policy.name)),
                Err(e) => failures.push(format!("{}: {test}: {e:#}", policy.name)),
            }
        }
    }
    assert_no_failures(&failures);
    assert!(ran > 0, "no test_* rule found");
}

#[test]
fn template_embeds_src_rego_as_rego_v1() {
    let mut failures = Vec::new();
    for policy in load_policies() {
        let t = &policy.template;
        let mut fail = |what: &str| failures.push(format!("{}: template.yaml: {what}", policy.name));
        if get_str(t, &["apiVersion"]) != Some("templates.gatekeeper.sh/v1") {
            fail("apiVersion must be templates.gatekeeper.sh/v1");
        }
        if get_str(t, &["kind"]) != Some("ConstraintTemplate") {
            fail("kind must be ConstraintTemplate");
        }
        let kind = get_str(t, &["spec", "crd", "spec", "names", "kind"]).unwrap_or_default();
        // Gatekeeper refuses a template whose name is not its constraint kind in lower case.
        if kind.is_empty() || get_str(t, &["metadata", "name"]) != Some(&kind.to_lowercase()) {
            fail("metadata.name must be spec.crd.spec.names.kind in lower case");
        }
        let targets = get(t, &["spec", "targets"]).and_then(Yaml::as_sequence);
        let [target] = targets.map(Vec::as_slice).unwrap_or_default() else {
            fail("spec.targets must hold exactly one target");
            continue;
        };
        if get_str(target, &["target"]) != Some(ADMISSION_TARGET) {
            fail("the target must be admission.k8s.gatekeeper.sh");
        }
        if target.get("rego").is_some() {
            fail("the legacy `rego` field is parsed as Rego v0: use code[].source instead");
        }
        let code = target.get("code").and_then(Yaml::as_sequence);
        let rego: Vec<&Yaml> = code
            .into_iter()
            .flatten()
            .filter(|c| get_str(c, &["engine"]) == Some("Rego"))
            .collect();
        let [rego] = rego.as_slice() else {
            fail("code must hold exactly one `engine: Rego` entry");
            continue;
        };
        if get_str(rego, &["source", "version"]) != Some("v1") {
            fail("code[Rego].source.version must be \"v1\"");
        }
        if get_str(rego, &["source", "rego"]) != Some(policy.src.as_str()) {
            fail("code[Rego].source.rego differs from src.rego (run policies/sync-templates.py)");
        }

        let c = &policy.constraint;
        let mut fail = |what: &str| failures.push(format!("{}: constraint.yaml: {what}", policy.name));
        if get_str(c, &["apiVersion"]) != Some("constraints.gatekeeper.sh/v1beta1") {
            fail("apiVersion must be constraints.gatekeeper.sh/v1beta1");
        }
        if get_str(c, &["kind"]) != Some(kind) {
            fail(&format!("kind must be the template's {kind}"));
        }
        let schema = get(
            t,
            &[
                "spec",
                "crd",
                "spec",
                "validation",
                "openAPIV3Schema",
                "properties",
            ],
        );
        if let Some(Yaml::Mapping(params)) = get(c, &["spec", "parameters"]) {
            for key in params.keys().filter_map(Yaml::as_str) {
                if schema.and_then(|s| s.get(key)).is_none() {
                    fail(&format!("parameter {key:?} is not in the template's schema"));
                }
            }
        }
    }
    assert_no_failures(&failures);
}

#[test]
fn pod_policies_share_identical_helpers() {
    let blocks: Vec<(String, String)> = load_policies()
        .into_iter()
        .filter_map(|p| {
            let start = p.src.find(SHARED_BEGIN)?;
            let end = p.src.find(SHARED_END)?;
            Some((p.name, p.src[start..end].to_owned()))
        })
        .collect();
    assert!(!blocks.is_empty(), "no policy holds the shared pod helpers");
    let (first_name, first) = &blocks[0];
    let differing: Vec<String> = blocks
        .iter()
        .filter(|(_, block)| block != first)
        .map(|(name, _)| format!("{name}: shared pod helpers differ from {first_name}'s"))
        .collect();
    assert_no_failures(&differing);
}

#[test]
fn disallowed_samples_are_denied_for_the_expected_reason() {
    let mut failures = Vec::new();
    for policy in load_policies() {
        let mut engine = engine_for(&policy);
        for sample in load_samples(&policy, "disallowed") {
            let at = sample.path.display();
            match violations(&mut engine, &policy, &sample.object) {
                Err(e) => failures.push(format!("{at}: {e}")),
                Ok(msgs) if msgs.is_empty() => failures.push(format!("{at}: no violation")),
                Ok(msgs) => {
                    if sample.expected.is_empty() {
                        failures.push(format!("{at}: no `{EXPECT_PREFIX}` line"));
                    }
                    for want in &sample.expected {
                        if !msgs.iter().any(|m| m.contains(want.as_str())) {
                            failures.push(format!("{at}: no violation mentions {want:?}: {msgs:?}"));
                        }
                    }
                }
            }
        }
    }
    assert_no_failures(&failures);
}

#[test]
fn allowed_samples_pass_every_policy_that_matches_them() {
    let policies = load_policies();
    let mut engines: Vec<Engine> = policies.iter().map(engine_for).collect();
    let mut failures = Vec::new();
    let mut own_checks = 0;
    for owner in &policies {
        for sample in load_samples(owner, "allowed") {
            for (policy, engine) in policies.iter().zip(engines.iter_mut()) {
                let own = policy.name == owner.name;
                if !own && !constraint_matches(&policy.constraint, &sample.object) {
                    continue;
                }
                own_checks += usize::from(own);
                let at = format!("{} under {}", sample.path.display(), policy.name);
                match violations(engine, policy, &sample.object) {
                    Ok(msgs) if msgs.is_empty() => {}
                    Ok(msgs) => failures.push(format!("{at}: {msgs:?}")),
                    Err(e) => failures.push(format!("{at}: {e}")),
                }
            }
        }
    }
    assert_no_failures(&failures);
    assert!(own_checks > 0, "no allowed sample found");
}
