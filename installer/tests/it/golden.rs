//! Golden snapshots of the example site: every file render generates (not key material, not the
//! folders copied from the repository, which are compared with their source instead).

use serde_json::Value;

use crate::helpers::{example, is_copied, is_derived, is_key_material, read_tree, render_into, repo};

#[test]
fn example_site_matches_the_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    render_into(&example(), dir.path(), false);
    let tree = read_tree(dir.path());
    let mut listing = String::new();
    for (path, bytes) in &tree {
        if is_copied(path) {
            continue;
        }
        if is_key_material(path) {
            listing.push_str(&format!("{path} (key material)\n"));
            continue;
        }
        if is_derived(path) {
            listing.push_str(&format!("{path} (derived from the repository)\n"));
            continue;
        }
        listing.push_str(&format!("{path}\n"));
        let text = String::from_utf8(bytes.clone()).unwrap();
        insta::assert_snapshot!(path.replace('/', "__"), text);
    }
    insta::assert_snapshot!("tree", listing);
}

#[test]
fn copied_folders_match_the_repository() {
    let dir = tempfile::tempdir().unwrap();
    render_into(&example(), dir.path(), false);
    let tree = read_tree(dir.path());
    let root = repo();
    let mut copied = 0;
    for (path, bytes) in &tree {
        if !is_copied(path) {
            continue;
        }
        let source = if let Some(rest) = path.strip_prefix("terraform/module/") {
            root.join("terraform/proxmox").join(rest)
        } else if let Some(name) = path.strip_prefix("terraform/") {
            root.join("terraform/proxmox/examples/basic").join(name)
        } else {
            root.join(path)
        };
        let mut expected =
            std::fs::read(&source).unwrap_or_else(|e| panic!("{path}: no source {}: {e}", source.display()));
        if path.starts_with("terraform/") && !path.starts_with("terraform/module/") {
            expected = String::from_utf8(expected)
                .unwrap()
                .replace("source = \"../..\"", "source = \"./module\"")
                .into_bytes();
        }
        assert!(bytes == &expected, "{path} differs from {}", source.display());
        copied += 1;
    }
    // The chart and the module are always there; the other folders may still be empty.
    assert!(tree.contains_key("helm/uyoop-cal/Chart.yaml"));
    assert!(tree.contains_key("terraform/module/main.tf"));
    assert!(tree.contains_key("terraform/main.tf"));
    assert!(copied > 5);
}

fn yaml(bytes: &[u8]) -> Value {
    serde_norway::from_slice(bytes).unwrap()
}

#[test]
fn derived_files_follow_their_sources() {
    let dir = tempfile::tempdir().unwrap();
    let config = example();
    render_into(&config, dir.path(), false);
    let site = |p: &str| std::fs::read(dir.path().join(p)).unwrap();
    let source = |p: &str| std::fs::read(repo().join(p)).unwrap();

    // The PrometheusRule holds exactly the rule groups of grafana/alerts.
    let rule = yaml(&site("kubernetes/manifests/uyoop-prometheus-rules.yaml"));
    assert_eq!(rule["kind"], "PrometheusRule");
    assert_eq!(rule["metadata"]["labels"]["release"], "kube-prometheus-stack");
    assert_eq!(
        rule["spec"]["groups"],
        yaml(&source("grafana/alerts/uyoop.rules.yaml"))["groups"]
    );

    // One ConfigMap per dashboard, with the dashboard's JSON unchanged.
    let text = String::from_utf8(site("kubernetes/manifests/uyoop-grafana-dashboards.yaml")).unwrap();
    let maps: Vec<Value> = text
        .split("\n---\n")
        .filter(|d| d.contains("kind"))
        .map(|d| yaml(d.as_bytes()))
        .collect();
    let boards: Vec<_> = std::fs::read_dir(repo().join("grafana/dashboards"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(maps.len(), boards.len());
    for path in boards {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let map = maps
            .iter()
            .find(|m| m["metadata"]["name"] == format!("grafana-dashboard-{name}"))
            .unwrap();
        assert_eq!(map["metadata"]["labels"]["grafana_dashboard"], "1");
        assert_eq!(
            map["data"][format!("{name}.json")].as_str().unwrap().as_bytes(),
            std::fs::read(&path).unwrap()
        );
    }

    // Alertmanager: the site's relay and addresses, everything else as in the source.
    let am = yaml(&site("kubernetes/alertmanager/alertmanager.yaml"));
    let src = yaml(&source("grafana/alertmanager/alertmanager.yml"));
    assert_eq!(am["global"]["smtp_smarthost"], "smtp.example.com:587");
    assert_eq!(am["global"]["smtp_from"], "uyoop@example.com");
    let emails = |doc: &Value, receiver: &str| -> Vec<Value> {
        doc["receivers"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["name"] == receiver)
            .flat_map(|r| r["email_configs"].as_array().cloned().unwrap_or_default())
            .map(|e| e["to"].clone())
            .collect()
    };
    assert!(
        emails(&am, "oncall-page")
            .iter()
            .all(|t| t == "oncall@example.com")
    );
    assert!(
        emails(&am, "team-email")
            .iter()
            .all(|t| t == "devops-team@example.com")
    );
    assert_eq!(am["route"], src["route"]);
    assert_eq!(am["inhibit_rules"], src["inhibit_rules"]);

    // The allowed-images constraint: the site's registries, the rest as in the source.
    let constraint = yaml(&site("policies/allowed-images/constraint.yaml"));
    let mut src = yaml(&source("policies/allowed-images/constraint.yaml"));
    assert_eq!(
        constraint["spec"]["parameters"]["registries"],
        serde_json::json!(["harbor.example.com/uyoop/"])
    );
    src["spec"]["parameters"]["registries"] = constraint["spec"]["parameters"]["registries"].clone();
    assert_eq!(constraint, src);
}
