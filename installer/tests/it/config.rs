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

#[test]
fn init_flags_set_sizes_registry_kind_and_notifications() {
    let dir = tempfile::tempdir().unwrap();
    let out = init(
        dir.path(),
        &[
            "--tls",
            "internal",
            "--server-size",
            "8:16384:100",
            "--agent-size",
            "16:65536:200",
            "--registry-kind",
            "generic",
            "--registry",
            "registry.example.org:5000/uyoop",
            "--smtp-host",
            "smtp.example.org",
            "--smtp-port",
            "465",
            "--smtp-username",
            "uyoop",
            "--smtp-password",
            "file:/etc/uyoop/smtp-password",
            "--slack-webhook",
            "env:UYOOP_SLACK_WEBHOOK",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let c = uyoop_install::check::load(&dir.path().join("uyoop.yaml")).unwrap();
    assert_eq!(c.nodes.servers.size.cpu, 8);
    assert_eq!(c.nodes.servers.size.disk_gb, 100);
    assert_eq!(c.nodes.agents.size.memory_mb, 65536);
    assert_eq!(c.registry.kind, uyoop_install::config::RegistryKind::Generic);
    let smtp = c.notifications.smtp.unwrap();
    assert_eq!((smtp.host.as_str(), smtp.port), ("smtp.example.org", 465));
    assert_eq!(smtp.from, "uyoop@cal.example.org");
    assert_eq!(
        smtp.password,
        Some(uyoop_install::config::SecretRef::File(
            "/etc/uyoop/smtp-password".into()
        ))
    );
    assert_eq!(
        c.notifications.slack_webhook,
        Some(uyoop_install::config::SecretRef::Env(
            "UYOOP_SLACK_WEBHOOK".into()
        ))
    );
}

#[test]
fn init_refuses_bad_sizes_secrets_and_orphan_smtp_flags() {
    for (extra, want) in [
        (&["--server-size", "1:1024:10"][..], "at least 2 CPUs"),
        (&["--agent-size", "4x8192"][..], "CPU:MEMORY_MB:DISK_GB"),
        (
            &["--smtp-host", "smtp.example.org", "--smtp-password", "hunter2"][..],
            "env:VARIABLE or file:/path",
        ),
        (
            &["--smtp-username", "uyoop"][..],
            "--smtp-username needs --smtp-host",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut args = vec!["--tls", "internal"];
        args.extend_from_slice(extra);
        let out = init(dir.path(), &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{extra:?} accepted");
        assert!(err.contains(want), "{extra:?}: {err}");
        assert!(!dir.path().join("uyoop.yaml").exists(), "{extra:?} wrote a file");
    }
}
