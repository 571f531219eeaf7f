//! The schema and the configs the project ships.

use std::process::Command;

use crate::helpers::{example, repo};

#[test]
fn committed_schema_is_current() {
    let committed = std::fs::read_to_string(repo().join("installer/uyoop.schema.json")).unwrap();
    assert!(
        committed == uyoop_install::config::schema_text(),
        "installer/uyoop.schema.json is stale: run `cargo run -p uyoop-install -- schema > installer/uyoop.schema.json`"
    );
}

#[test]
fn example_config_passes_check() {
    let c = example();
    assert_eq!(c.site, "paris");
    assert_eq!(c.nodes.servers.count, 3);
}

#[test]
fn schema_command_prints_the_schema() {
    let out = Command::new(env!("CARGO_BIN_EXE_uyoop-install"))
        .arg("schema")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        uyoop_install::config::schema_text()
    );
}

fn init(dir: &std::path::Path, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_uyoop-install"))
        .current_dir(dir)
        .args([
            "init",
            "--non-interactive",
            "--site",
            "lyon",
            "--domain",
            "cal.example.org",
        ])
        .args([
            "--ssh-public-key",
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHn0uYoopExampleKeyNotARealOneAAAAAAAAAAAA ops@example",
        ])
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn init_writes_a_config_that_checks_for_every_provider() {
    for provider in ["proxmox", "azure", "vsphere", "existing"] {
        let dir = tempfile::tempdir().unwrap();
        let out = init(
            dir.path(),
            &["--provider", provider, "--tls", "internal", "--agents", "3"],
        );
        assert!(
            out.status.success(),
            "{provider}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = std::fs::read_to_string(dir.path().join("uyoop.yaml")).unwrap();
        assert!(text.contains("# "), "the config is commented");
        let check = Command::new(env!("CARGO_BIN_EXE_uyoop-install"))
            .current_dir(dir.path())
            .arg("check")
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "{provider}: {}",
            String::from_utf8_lossy(&check.stderr)
        );
    }
}

#[test]
fn init_refuses_to_overwrite_without_force() {
    let dir = tempfile::tempdir().unwrap();
    assert!(
        init(dir.path(), &["--acme-email", "ops@example.org"])
            .status
            .success()
    );
    let again = init(dir.path(), &["--acme-email", "ops@example.org"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    assert!(
        init(dir.path(), &["--acme-email", "ops@example.org", "--force"])
            .status
            .success()
    );
}

#[test]
fn init_names_a_missing_flag() {
    let dir = tempfile::tempdir().unwrap();
    let out = init(dir.path(), &["--tls", "acme"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--acme-email"));
    assert!(!dir.path().join("uyoop.yaml").exists());
}
