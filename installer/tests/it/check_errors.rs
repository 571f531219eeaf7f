//! Each broken config is refused with an error that names the field (and a fix).

use std::process::Command;

use serde_json::{Value, json};

use crate::helpers::{example_value, parse_value};

/// Sets the value at a JSON pointer (creating nothing: the parent must exist); `None` removes it.
fn with(pointer: &str, value: Option<Value>) -> Value {
    let mut doc = example_value();
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let target = doc
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("no {parent} in the example"));
    match (target, value) {
        (Value::Object(map), Some(v)) => {
            map.insert(key.to_owned(), v);
        }
        (Value::Object(map), None) => {
            map.remove(key);
        }
        (Value::Array(items), Some(v)) => items[key.parse::<usize>().unwrap()] = v,
        _ => panic!("cannot edit {pointer}"),
    }
    doc
}

#[test]
fn each_broken_config_names_its_field() {
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "even servers",
            with("/nodes/servers/count", Some(json!(4))),
            "nodes.servers.count",
        ),
        (
            "one server",
            with("/nodes/servers/count", Some(json!(1))),
            "nodes.servers.count",
        ),
        (
            "too many replicas",
            with("/app/replicas", Some(json!(11))),
            "app.replicas",
        ),
        (
            "too few replicas",
            with("/app/replicas", Some(json!(2))),
            "app.replicas",
        ),
        (
            "bad CIDR",
            with("/network/pods", Some(json!("10.42.0.0/33"))),
            "network.pods",
        ),
        (
            "host bits",
            with("/network/nodes", Some(json!("10.20.0.1/24"))),
            "network.nodes",
        ),
        (
            "overlapping CIDRs",
            with("/network/services", Some(json!("10.42.128.0/17"))),
            "network.services",
        ),
        (
            "bad domain",
            with("/domain", Some(json!("cal_example.com"))),
            "domain",
        ),
        (
            "single-label domain",
            with("/domain", Some(json!("localhost"))),
            "domain",
        ),
        (
            "bad ACME email",
            with("/tls/email", Some(json!("ops-at-example.com"))),
            "tls.email",
        ),
        ("bad site name", with("/site", Some(json!("Paris!"))), "site"),
        (
            "unknown field",
            with("/nodes/servers/cores", Some(json!(4))),
            "nodes.servers.cores",
        ),
        ("missing field", with("/backup/bucket", None), "backup.bucket"),
        (
            "inline secret",
            with("/backup/secret_key", Some(json!("hunter2hunter2"))),
            "backup.secret_key",
        ),
        (
            "unknown provider",
            with("/provider/kind", Some(json!("openstack"))),
            "provider.kind",
        ),
        (
            "bad cron",
            with("/backup/schedules/vault", Some(json!("every hour"))),
            "backup.schedules.vault",
        ),
        (
            "small machine",
            with("/nodes/servers/size/memory_mb", Some(json!(1024))),
            "nodes.servers.size.memory_mb",
        ),
        (
            "gateway outside",
            with("/network/gateway", Some(json!("192.168.1.1"))),
            "network.gateway",
        ),
        (
            "registry with scheme",
            with("/registry/allowed", Some(json!(["https://harbor.example.com/"]))),
            "registry.allowed.0",
        ),
        (
            "airgap without mirror",
            {
                let mut v = with("/registry/mirror", Some(json!(false)));
                v["airgap"] = json!({"bundle": "/srv/bundle"});
                v
            },
            "registry.mirror",
        ),
        (
            "wrong type",
            with("/nodes/agents/count", Some(json!("three"))),
            "nodes.agents.count",
        ),
    ];
    for (what, doc, field) in cases {
        let err = parse_value(&doc).expect_err(what);
        let text = err.to_string();
        assert!(
            text.contains(&format!("- {field}:")),
            "{what}: the error should name {field}:\n{text}"
        );
        assert!(
            text.contains("fix:"),
            "{what}: the error should say how to fix it:\n{text}"
        );
    }
}

#[test]
fn existing_hosts_must_match_the_counts() {
    let mut doc = example_value();
    doc["provider"] = json!({"kind": "existing", "hosts": [
        {"name": "a", "address": "10.20.0.10", "role": "server"},
        {"name": "b", "address": "10.20.0.11", "role": "server"},
        {"name": "c", "address": "10.30.0.12", "role": "server"},
        {"name": "c", "address": "10.20.0.20", "role": "agent"},
    ]});
    let text = parse_value(&doc).unwrap_err().to_string();
    assert!(
        text.contains("- provider.hosts: 1 hosts have role agent but nodes.agents.count is 3"),
        "{text}"
    );
    assert!(
        text.contains("- provider.hosts.2.address: 10.30.0.12 is outside network.nodes"),
        "{text}"
    );
    assert!(
        text.contains("- provider.hosts.3.name: c is used twice"),
        "{text}"
    );
}

#[test]
fn check_exits_non_zero_and_names_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("uyoop.yaml");
    std::fs::write(
        &path,
        serde_norway::to_string(&with("/nodes/servers/count", Some(json!(2)))).unwrap(),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_uyoop-install"))
        .args(["check", "-c"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("nodes.servers.count"), "{stderr}");
    assert!(stderr.contains("odd number"), "{stderr}");
}

#[test]
fn yaml_syntax_error_names_line_and_column() {
    let text = "site: paris\ndomain: cal.example.com\nnodes:\n  servers: [1, 2\n";
    let err = uyoop_install::check::parse(text, std::path::Path::new("uyoop.yaml")).unwrap_err();
    match err {
        uyoop_install::Error::Yaml { line, column, .. } => {
            assert!(line >= 4, "line {line}");
            assert!(column >= 1);
        }
        other => panic!("expected a YAML error, got {other}"),
    }
}

#[test]
fn missing_file_says_so() {
    let out = Command::new(env!("CARGO_BIN_EXE_uyoop-install"))
        .args(["check", "-c", "/nonexistent/uyoop.yaml"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read /nonexistent/uyoop.yaml"));
}
