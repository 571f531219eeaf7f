//! Shared helpers: the example config, rendering into a temporary site, reading a site's files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use indicatif::ProgressBar;
use uyoop_install::config::Config;
use uyoop_install::{check, render};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

/// `installer/examples/uyoop.yaml`.
pub fn example_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/uyoop.yaml")
}

/// The example config, checked.
pub fn example() -> Config {
    check::load(&example_path()).unwrap()
}

/// The example config as a JSON value, to derive variants from.
pub fn example_value() -> serde_json::Value {
    serde_norway::from_str(&std::fs::read_to_string(example_path()).unwrap()).unwrap()
}

/// Parses and checks a config given as a JSON value (via YAML text, like a file).
pub fn parse_value(value: &serde_json::Value) -> Result<Config, uyoop_install::Error> {
    let text = serde_norway::to_string(value).unwrap();
    check::parse(&text, Path::new("test.yaml"))
}

/// Renders `config` into `out` (quietly).
pub fn render_into(config: &Config, out: &Path, rotate: bool) {
    render::render(config, out, rotate, &ProgressBar::hidden()).unwrap();
}

/// Every file under `root`, relative path -> bytes, sorted.
pub fn read_tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// Files copied verbatim from repository folders (compared with the repository, not snapshotted).
pub fn is_copied(rel: &str) -> bool {
    if rel == "policies/allowed-images/constraint.yaml" {
        return false; // rendered with the site's registries
    }
    ["helm/", "policies/", "grafana/", "runbooks/", "terraform/module/"]
        .iter()
        .any(|p| rel.starts_with(p))
        || (rel.starts_with("ansible/")
            && !rel.starts_with("ansible/inventory/")
            && rel != "ansible/secrets.yml")
        || (rel.starts_with("terraform/") && rel.ends_with(".tf"))
}

/// Files rendered from another team's repository folder (alert rules, dashboards, Alertmanager,
/// a policy constraint): checked against their source by `golden::derived_files_follow_their_sources`
/// rather than snapshotted, so that an edit of the source does not break the snapshots.
pub fn is_derived(rel: &str) -> bool {
    matches!(
        rel,
        "kubernetes/manifests/uyoop-prometheus-rules.yaml"
            | "kubernetes/manifests/uyoop-grafana-dashboards.yaml"
            | "kubernetes/alertmanager/alertmanager.yaml"
            | "policies/allowed-images/constraint.yaml"
    )
}

/// Files holding key material or per-issue data.
pub fn is_key_material(rel: &str) -> bool {
    render::pki::is_key_material(Path::new(rel))
}
