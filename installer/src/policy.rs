//! `uyoop-install policy-check`: the Gatekeeper policies evaluated on real manifests, offline.
//!
//! Every policy folder (a `template.yaml` ConstraintTemplate and the `constraint.yaml`
//! Constraint(s) that instantiate it) is loaded into the regorus Rego engine. Every Kubernetes
//! object of the given YAML files that a Constraint's `spec.match` selects is handed to the
//! template's Rego as Gatekeeper's admission webhook would hand it (`input.review` with the
//! object, `input.parameters` with the Constraint's parameters), and each `violation` is reported
//! as `kind/namespace/name: policy: message`.
//!
//! What is and is not covered, so that a clean run is read for what it is:
//! - `match`: `kinds`, `scope`, `namespaces`, `excludedNamespaces` (with Gatekeeper's `prefix*`
//!   and `*suffix` globs), `name`, `labelSelector`, and `namespaceSelector` (against the labels of
//!   the Namespace objects among the inputs, plus `kubernetes.io/metadata.name`).
//! - Gatekeeper's own exemptions (the `Config` resource, `--exempt-namespace` flags) are not
//!   applied: a constraint's `excludedNamespaces` is the only exemption.
//! - K3s `HelmChart` resources are wrappers: the chart they name is rendered inside the cluster
//!   by K3s' helm controller, so the objects it creates are not in the inputs. They are listed
//!   in the summary, never silently counted as checked.
//! - Referential policies (`data.inventory`) see an empty inventory.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use clap::Args;
use regorus::Engine;
use serde_json::{Value, json};

use crate::assets;
use crate::error::{Error, Result};

/// Flags of `policy-check`.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct PolicyCheckArgs {
    /// Kubernetes YAML files or directories (searched recursively for *.yaml and *.yml; a Helm
    /// chart's source folder is skipped: render it first). `-` reads standard input.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Evaluate the constraints as `render` writes them for this site (its allowed registries)
    /// instead of the embedded defaults.
    #[arg(short = 'c', long = "config", conflicts_with = "policies")]
    pub config: Option<PathBuf>,
    /// Evaluate the policy folders of this directory (each with template.yaml and
    /// constraint.yaml, e.g. a rendered site's policies/) instead of the embedded ones.
    #[arg(long, value_name = "DIR")]
    pub policies: Option<PathBuf>,
    /// Namespace of namespaced objects that name none (where `kubectl apply -n` would put them).
    #[arg(short = 'n', long, default_value = "default")]
    pub namespace: String,
    /// Also list every reviewed object with the number of policies that selected it.
    #[arg(short, long)]
    pub verbose: bool,
}

/// One Constraint with the Rego of its ConstraintTemplate, loaded in its own engine.
#[derive(Debug)]
pub struct Policy {
    /// The policy folder, with `/<constraint name>` when the folder holds several constraints.
    pub name: String,
    /// The Constraint object (`spec.match`, `spec.parameters`, `spec.enforcementAction`).
    pub constraint: Value,
    package: String,
    engine: Engine,
}

impl Policy {
    /// Loads a policy from a ConstraintTemplate and one of its Constraints. The Rego comes from
    /// the template's `code[engine: Rego]` (Rego v1 when `source.version` is `v1`) or its legacy
    /// `rego` field (Rego v0), as Gatekeeper reads it.
    pub fn new(name: &str, template: &Value, constraint: Value) -> Result<Self> {
        let err = |message: String| Error::Policy {
            name: name.to_owned(),
            message,
        };
        let targets = template
            .pointer("/spec/targets")
            .and_then(Value::as_array)
            .ok_or_else(|| err("template.yaml has no spec.targets".into()))?;
        let target = targets
            .iter()
            .find(|t| t.get("target").and_then(Value::as_str) == Some(ADMISSION_TARGET))
            .ok_or_else(|| err(format!("template.yaml has no {ADMISSION_TARGET} target")))?;
        let rego_code = target
            .get("code")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|c| c.get("engine").and_then(Value::as_str) == Some("Rego"));
        let (rego, libs, v1) = match rego_code {
            Some(code) => (
                code.pointer("/source/rego").and_then(Value::as_str),
                code.pointer("/source/libs"),
                code.pointer("/source/version").and_then(Value::as_str) == Some("v1"),
            ),
            None => (
                target.get("rego").and_then(Value::as_str),
                target.get("libs"),
                false,
            ),
        };
        let rego = rego.ok_or_else(|| err("template.yaml holds no Rego".into()))?;
        let package = rego
            .lines()
            .find_map(|l| l.trim().strip_prefix("package "))
            .map(|p| p.trim().to_owned())
            .ok_or_else(|| err("the template's Rego declares no package".into()))?;
        let mut engine = Engine::new();
        engine.set_rego_v0(!v1);
        engine
            .add_policy(format!("{name}/template.yaml"), rego.to_owned())
            .map_err(|e| err(format!("the template's Rego does not parse: {e:#}")))?;
        for (i, lib) in libs
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .enumerate()
        {
            engine
                .add_policy(format!("{name}/lib-{i}"), lib.to_owned())
                .map_err(|e| err(format!("library {i} of the template does not parse: {e:#}")))?;
        }
        Ok(Policy {
            name: name.to_owned(),
            constraint,
            package,
            engine,
        })
    }

    /// The Constraint's enforcement action (`deny` when unset, as in Gatekeeper).
    pub fn enforcement_action(&self) -> &str {
        self.constraint
            .pointer("/spec/enforcementAction")
            .and_then(Value::as_str)
            .unwrap_or("deny")
    }

    /// The `msg` of every violation the Rego reports for `object` (already matched).
    fn violations(&mut self, object: &Object) -> Result<Vec<String>> {
        let parameters = self
            .constraint
            .pointer("/spec/parameters")
            .cloned()
            .unwrap_or_else(|| json!({}));
        let input = json!({
            "review": {
                "kind": {"group": object.group, "version": object.version, "kind": object.kind},
                "name": object.name,
                "namespace": object.namespace,
                "operation": "CREATE",
                "userInfo": {"username": "uyoop-install policy-check"},
                "object": object.value,
            },
            "parameters": parameters,
        });
        let err = |message: String| Error::Policy {
            name: self.name.clone(),
            message,
        };
        let input = regorus::Value::from_json_str(&input.to_string())
            .map_err(|e| err(format!("cannot build the input of {}: {e:#}", object.reference())))?;
        self.engine.set_input(input);
        let result = self
            .engine
            .eval_rule(format!("data.{}.violation", self.package))
            .map_err(|e| err(format!("evaluation on {} failed: {e:#}", object.reference())))?;
        if result == regorus::Value::Undefined {
            return Ok(Vec::new());
        }
        let set = result
            .as_set()
            .map_err(|_| err(format!("violation is not a set: {result}")))?;
        Ok(set
            .iter()
            .map(|v| match &v["msg"] {
                regorus::Value::String(s) => s.to_string(),
                other => other.to_string(),
            })
            .collect())
    }
}

/// Gatekeeper's validating admission target.
pub const ADMISSION_TARGET: &str = "admission.k8s.gatekeeper.sh";

fn yaml_err(path: &str, e: &serde_norway::Error) -> Error {
    let at = e
        .location()
        .map(|l| format!(":{}:{}", l.line(), l.column()))
        .unwrap_or_default();
    Error::Manifest {
        path: format!("{path}{at}"),
        message: e.to_string(),
    }
}

/// Every YAML document of a text, in order (empty documents left out).
fn documents(path: &str, text: &str) -> Result<Vec<serde_norway::Value>> {
    use serde::Deserialize;
    let mut docs = Vec::new();
    for de in serde_norway::Deserializer::from_str(text) {
        let doc = serde_norway::Value::deserialize(de).map_err(|e| yaml_err(path, &e))?;
        if !doc.is_null() {
            docs.push(doc);
        }
    }
    Ok(docs)
}

/// Policies from a folder: one policy per sub-folder holding `template.yaml` and
/// `constraint.yaml` (or the folder itself when it holds them); every Constraint document of
/// `constraint.yaml` is a policy.
fn from_files(name: &str, template: &str, constraints: &str) -> Result<Vec<Policy>> {
    let template_docs = documents(&format!("{name}/template.yaml"), template)?;
    let template: Value = template_docs
        .into_iter()
        .next()
        .map(serde_json::to_value)
        .transpose()
        .map_err(|e| Error::Policy {
            name: name.to_owned(),
            message: format!("template.yaml: {e}"),
        })?
        .unwrap_or(Value::Null);
    let constraints: Vec<Value> = documents(&format!("{name}/constraint.yaml"), constraints)?
        .into_iter()
        .map(serde_json::to_value)
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| Error::Policy {
            name: name.to_owned(),
            message: format!("constraint.yaml: {e}"),
        })?;
    let several = constraints.len() > 1;
    constraints
        .into_iter()
        .map(|c| {
            let label = match c.pointer("/metadata/name").and_then(Value::as_str) {
                Some(n) if several => format!("{name}/{n}"),
                _ => name.to_owned(),
            };
            Policy::new(&label, &template, c)
        })
        .collect()
}

/// The policies embedded in the binary (the repository's `policies/`), with their default
/// parameters.
pub fn embedded() -> Result<Vec<Policy>> {
    embedded_with(|_, text| Ok(text.to_owned()))
}

/// The embedded policies as `render` deploys them for `config` (allowed-images gets the site's
/// registries).
pub fn for_site(config: &crate::config::Config) -> Result<Vec<Policy>> {
    let site = assets::allowed_images_constraint(config)?;
    embedded_with(|rel, text| match (&site, rel == assets::ALLOWED_IMAGES) {
        (Some(c), true) => crate::render::to_yaml(rel, c),
        _ => Ok(text.to_owned()),
    })
}

fn embedded_with(constraint_text: impl Fn(&str, &str) -> Result<String>) -> Result<Vec<Policy>> {
    let mut out = Vec::new();
    let mut dirs: Vec<_> = assets::POLICIES.dirs().collect();
    dirs.sort_by_key(|d| d.path().to_owned());
    for dir in dirs {
        let name = dir.path().to_string_lossy().into_owned();
        let (Some(t), Some(c)) = (
            assets::POLICIES.get_file(format!("{name}/template.yaml")),
            assets::POLICIES.get_file(format!("{name}/constraint.yaml")),
        ) else {
            continue;
        };
        let rel = format!("{name}/constraint.yaml");
        let constraints = constraint_text(&rel, &String::from_utf8_lossy(c.contents()))?;
        out.extend(from_files(
            &name,
            &String::from_utf8_lossy(t.contents()),
            &constraints,
        )?);
    }
    Ok(out)
}

/// The policies of a directory (see [`PolicyCheckArgs::policies`]).
pub fn from_dir(dir: &Path) -> Result<Vec<Policy>> {
    let read = |p: &Path| {
        std::fs::read_to_string(p).map_err(|source| Error::Read {
            path: p.to_owned(),
            source,
        })
    };
    let mut folders = Vec::new();
    if dir.join("template.yaml").is_file() {
        folders.push(dir.to_owned());
    } else {
        for entry in std::fs::read_dir(dir).map_err(|source| Error::Read {
            path: dir.to_owned(),
            source,
        })? {
            let path = entry
                .map_err(|source| Error::Read {
                    path: dir.to_owned(),
                    source,
                })?
                .path();
            if path.join("template.yaml").is_file() && path.join("constraint.yaml").is_file() {
                folders.push(path);
            }
        }
    }
    folders.sort();
    let mut out = Vec::new();
    for folder in folders {
        let name = folder
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| folder.display().to_string());
        out.extend(from_files(
            &name,
            &read(&folder.join("template.yaml"))?,
            &read(&folder.join("constraint.yaml"))?,
        )?);
    }
    if out.is_empty() {
        return Err(Error::Policy {
            name: dir.display().to_string(),
            message: "no policy folder (template.yaml + constraint.yaml) found".into(),
        });
    }
    Ok(out)
}

/// Kinds of the core Kubernetes API (and of the components the site installs) that are
/// cluster-scoped; every other kind is taken as namespaced.
const CLUSTER_SCOPED: &[&str] = &[
    "APIService",
    "CertificateSigningRequest",
    "ClusterIssuer",
    "ClusterRole",
    "ClusterRoleBinding",
    "ComponentStatus",
    "ConstraintTemplate",
    "CSIDriver",
    "CSINode",
    "CustomResourceDefinition",
    "FlowSchema",
    "IngressClass",
    "MutatingWebhookConfiguration",
    "Namespace",
    "Node",
    "PersistentVolume",
    "PriorityClass",
    "PriorityLevelConfiguration",
    "RuntimeClass",
    "StorageClass",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration",
    "VolumeAttachment",
];

/// One Kubernetes object read from a file.
#[derive(Debug, Clone)]
pub struct Object {
    /// File it was read from, and its document number (1-based).
    pub source: String,
    /// API group (`""` for the core group).
    pub group: String,
    /// API version.
    pub version: String,
    /// Kind.
    pub kind: String,
    /// `metadata.name` (or `generateName`).
    pub name: String,
    /// Namespace (`""` for cluster-scoped objects).
    pub namespace: String,
    /// The object, with `metadata.namespace` filled in as the API server would.
    pub value: Value,
}

impl Object {
    /// `kind/namespace/name`.
    pub fn reference(&self) -> String {
        format!("{}/{}/{}", self.kind, self.namespace, self.name)
    }

    fn cluster_scoped(&self) -> bool {
        self.namespace.is_empty()
    }

    fn labels(&self) -> BTreeMap<String, String> {
        labels_of(&self.value)
    }

    fn is_helm_chart(&self) -> bool {
        self.group == "helm.cattle.io" && self.kind == "HelmChart"
    }
}

fn labels_of(value: &Value) -> BTreeMap<String, String> {
    value
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            (k.clone(), v)
        })
        .collect()
}

/// The Kubernetes objects of a set of files.
#[derive(Debug, Default)]
pub struct Manifests {
    /// Every object, in file and document order.
    pub objects: Vec<Object>,
    /// Files read.
    pub files: usize,
    /// Helm chart source folders skipped while walking directories.
    pub skipped_charts: Vec<PathBuf>,
}

impl Manifests {
    /// Reads every path (file, directory, or `-` for standard input); namespaced objects that
    /// name no namespace are put in `default_namespace`.
    pub fn read(paths: &[PathBuf], default_namespace: &str) -> Result<Self> {
        let mut m = Manifests::default();
        for path in paths {
            if path.as_os_str() == "-" {
                let mut text = String::new();
                std::io::stdin()
                    .read_to_string(&mut text)
                    .map_err(|source| Error::Read {
                        path: path.clone(),
                        source,
                    })?;
                m.add_text("<stdin>", &text, default_namespace)?;
            } else if path.is_dir() {
                let mut files = Vec::new();
                walk(path, &mut files, &mut m.skipped_charts)?;
                for f in files {
                    m.add_file(&f, default_namespace)?;
                }
            } else {
                m.add_file(path, default_namespace)?;
            }
        }
        Ok(m)
    }

    fn add_file(&mut self, path: &Path, default_namespace: &str) -> Result<()> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?;
        self.add_text(&path.display().to_string(), &text, default_namespace)
    }

    /// Adds the objects of one YAML text; documents that are not Kubernetes objects (no
    /// `apiVersion` and `kind`) are ignored, a `kind: List` is expanded.
    pub fn add_text(&mut self, path: &str, text: &str, default_namespace: &str) -> Result<()> {
        self.files += 1;
        for (i, doc) in documents(path, text)?.into_iter().enumerate() {
            let is_object = doc
                .get("apiVersion")
                .and_then(serde_norway::Value::as_str)
                .is_some()
                && doc.get("kind").and_then(serde_norway::Value::as_str).is_some();
            if !is_object {
                continue;
            }
            let source = format!("{path} (document {})", i + 1);
            let value = serde_json::to_value(&doc).map_err(|e| Error::Manifest {
                path: source.clone(),
                message: e.to_string(),
            })?;
            if value.get("kind").and_then(Value::as_str) == Some("List") {
                for item in value.get("items").and_then(Value::as_array).into_iter().flatten() {
                    self.push(&source, item.clone(), default_namespace);
                }
            } else {
                self.push(&source, value, default_namespace);
            }
        }
        Ok(())
    }

    fn push(&mut self, source: &str, mut value: Value, default_namespace: &str) {
        let str_at = |v: &Value, p: &str| v.pointer(p).and_then(Value::as_str).map(str::to_owned);
        let api_version = str_at(&value, "/apiVersion").unwrap_or_default();
        let (group, version) = match api_version.rsplit_once('/') {
            Some((g, v)) => (g.to_owned(), v.to_owned()),
            None => (String::new(), api_version.clone()),
        };
        let kind = str_at(&value, "/kind").unwrap_or_default();
        let name = str_at(&value, "/metadata/name")
            .or_else(|| str_at(&value, "/metadata/generateName"))
            .unwrap_or_else(|| "<unnamed>".into());
        let cluster_scoped = CLUSTER_SCOPED.contains(&kind.as_str()) || group == "constraints.gatekeeper.sh";
        let namespace = if cluster_scoped {
            String::new()
        } else {
            let ns = str_at(&value, "/metadata/namespace")
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| default_namespace.to_owned());
            if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.insert("namespace".into(), json!(ns));
            }
            ns
        };
        self.objects.push(Object {
            source: source.to_owned(),
            group,
            version,
            kind,
            name,
            namespace,
            value,
        });
    }

    /// Labels of each namespace: those of the Namespace objects read, plus the
    /// `kubernetes.io/metadata.name` label the API server sets.
    fn namespace_labels(&self) -> BTreeMap<String, BTreeMap<String, String>> {
        let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for o in &self.objects {
            if o.group.is_empty() && o.kind == "Namespace" {
                out.entry(o.name.clone()).or_default().extend(o.labels());
            }
        }
        out
    }
}

/// YAML files under `dir`, sorted; hidden entries are skipped, and so are Helm chart source
/// folders (their templates are not YAML until rendered).
fn walk(dir: &Path, files: &mut Vec<PathBuf>, charts: &mut Vec<PathBuf>) -> Result<()> {
    if dir.join("Chart.yaml").is_file() {
        charts.push(dir.to_owned());
        return Ok(());
    }
    let rerr = |source| Error::Read {
        path: dir.to_owned(),
        source,
    };
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(rerr)? {
        entries.push(entry.map_err(rerr)?.path());
    }
    entries.sort();
    for path in entries {
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            walk(&path, files, charts)?;
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            files.push(path);
        }
    }
    Ok(())
}

/// Gatekeeper's namespace glob: `prefix*`, `*suffix`, or an exact name.
fn glob(pattern: &str, name: &str) -> bool {
    if let Some(prefix) = pattern.strip_suffix('*') {
        name.starts_with(prefix)
    } else if let Some(suffix) = pattern.strip_prefix('*') {
        name.ends_with(suffix)
    } else {
        pattern == name
    }
}

fn strings(v: Option<&Value>) -> Vec<&str> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// Whether a Kubernetes label selector (`matchLabels`, `matchExpressions`) selects `labels`.
fn selects(selector: &Value, labels: &BTreeMap<String, String>) -> bool {
    let by_labels = selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .all(|(k, v)| labels.get(k).map(String::as_str) == v.as_str());
    let by_expressions = selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .all(|e| {
            let key = e.get("key").and_then(Value::as_str).unwrap_or_default();
            let values = strings(e.get("values"));
            let have = labels.get(key).map(String::as_str);
            match e.get("operator").and_then(Value::as_str) {
                Some("In") => have.is_some_and(|h| values.contains(&h)),
                Some("NotIn") => have.is_none_or(|h| !values.contains(&h)),
                Some("Exists") => have.is_some(),
                Some("DoesNotExist") => have.is_none(),
                _ => false,
            }
        });
    by_labels && by_expressions
}

/// Whether a Constraint's `spec.match` selects `object`, as Gatekeeper decides it.
pub fn matches(
    constraint: &Value,
    object: &Object,
    namespaces: &BTreeMap<String, BTreeMap<String, String>>,
) -> bool {
    let Some(m) = constraint.pointer("/spec/match") else {
        return true;
    };
    let kinds = m.get("kinds").and_then(Value::as_array);
    if let Some(kinds) = kinds.filter(|k| !k.is_empty()) {
        let any = |list: Vec<&str>, want: &str| list.iter().any(|s| *s == want || *s == "*");
        let hit = kinds.iter().any(|k| {
            any(strings(k.get("apiGroups")), &object.group) && any(strings(k.get("kinds")), &object.kind)
        });
        if !hit {
            return false;
        }
    }
    match m.get("scope").and_then(Value::as_str) {
        Some("Namespaced") if object.cluster_scoped() => return false,
        Some("Cluster") if !object.cluster_scoped() => return false,
        _ => {}
    }
    if let Some(name) = m.get("name").and_then(Value::as_str)
        && !glob(name, &object.name)
    {
        return false;
    }
    // A Namespace is matched by its own name; other cluster-scoped objects have no namespace
    // and pass the namespace criteria.
    let is_namespace = object.group.is_empty() && object.kind == "Namespace";
    let ns = if is_namespace {
        Some(object.name.as_str())
    } else if object.cluster_scoped() {
        None
    } else {
        Some(object.namespace.as_str())
    };
    if let Some(ns) = ns {
        let listed = strings(m.get("namespaces"));
        if m.get("namespaces").is_some() && !listed.iter().any(|p| glob(p, ns)) {
            return false;
        }
        if strings(m.get("excludedNamespaces")).iter().any(|p| glob(p, ns)) {
            return false;
        }
        if let Some(selector) = m.get("namespaceSelector") {
            let mut labels = namespaces.get(ns).cloned().unwrap_or_default();
            labels.insert("kubernetes.io/metadata.name".into(), ns.to_owned());
            if !selects(selector, &labels) {
                return false;
            }
        }
    }
    if let Some(selector) = m.get("labelSelector")
        && !selects(selector, &object.labels())
    {
        return false;
    }
    true
}

/// One violation of one policy by one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// `kind/namespace/name` of the object.
    pub object: String,
    /// Where the object was read.
    pub source: String,
    /// The policy.
    pub policy: String,
    /// The Constraint's enforcement action (`deny`, `warn`, `dryrun`).
    pub action: String,
    /// The policy's message.
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}", self.object, self.policy, self.message)?;
        if self.action != "deny" {
            write!(f, " (enforcementAction: {})", self.action)?;
        }
        Ok(())
    }
}

/// What a check found.
#[derive(Debug, Default)]
pub struct Report {
    /// Every violation, in object order then policy order.
    pub violations: Vec<Violation>,
    /// Objects read.
    pub objects: usize,
    /// `kind/namespace/name` of each object at least one Constraint selected, with the number
    /// of Constraints that did (each was evaluated).
    pub reviewed: Vec<(String, usize)>,
    /// (object, policy) evaluations.
    pub evaluations: usize,
    /// `namespace/name` of the K3s HelmChart wrappers among the objects.
    pub helm_charts: Vec<String>,
}

/// Evaluates every policy on every object it matches.
pub fn evaluate(policies: &mut [Policy], manifests: &Manifests) -> Result<Report> {
    let namespaces = manifests.namespace_labels();
    let mut report = Report {
        objects: manifests.objects.len(),
        ..Report::default()
    };
    for object in &manifests.objects {
        if object.is_helm_chart() {
            report
                .helm_charts
                .push(format!("{}/{}", object.namespace, object.name));
        }
        let mut selected = 0;
        for policy in policies.iter_mut() {
            if !matches(&policy.constraint, object, &namespaces) {
                continue;
            }
            selected += 1;
            report.evaluations += 1;
            let mut messages = policy.violations(object)?;
            messages.sort();
            for message in messages {
                report.violations.push(Violation {
                    object: object.reference(),
                    source: object.source.clone(),
                    policy: policy.name.clone(),
                    action: policy.enforcement_action().to_owned(),
                    message,
                });
            }
        }
        if selected > 0 {
            report.reviewed.push((object.reference(), selected));
        }
    }
    Ok(report)
}

/// The policies `args` asks for.
pub fn policies_for(args: &PolicyCheckArgs) -> Result<Vec<Policy>> {
    match (&args.policies, &args.config) {
        (Some(dir), _) => from_dir(dir),
        (None, Some(config)) => for_site(&crate::check::load(config)?),
        (None, None) => embedded(),
    }
}

/// Runs `policy-check`: prints each violation, then a summary; returns the number of
/// violations.
pub fn run(args: &PolicyCheckArgs) -> Result<usize> {
    let mut policies = policies_for(args)?;
    let manifests = Manifests::read(&args.paths, &args.namespace)?;
    let report = evaluate(&mut policies, &manifests)?;
    for v in &report.violations {
        println!("{v}");
    }
    if args.verbose {
        for (object, n) in &report.reviewed {
            println!(
                "reviewed {object} ({n} polic{})",
                if *n == 1 { "y" } else { "ies" }
            );
        }
    }
    for chart in &manifests.skipped_charts {
        println!(
            "note: skipped the Helm chart sources in {}: render the chart (helm template) and check its output",
            chart.display()
        );
    }
    if !report.helm_charts.is_empty() {
        println!(
            "note: {} K3s HelmChart wrapper(s) ({}): their charts' objects are rendered by K3s in the cluster, not here; Gatekeeper reviews them at admission",
            report.helm_charts.len(),
            report.helm_charts.join(", ")
        );
    }
    println!(
        "policy-check: {} object(s) in {} file(s), {} reviewed by {} polic{}: {} violation(s)",
        report.objects,
        manifests.files,
        report.reviewed.len(),
        policies.len(),
        if policies.len() == 1 { "y" } else { "ies" },
        report.violations.len()
    );
    Ok(report.violations.len())
}
