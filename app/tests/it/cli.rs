//! The `uyoop-cal` command line: clear one-line errors, never a panic.

use std::process::Command;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_uyoop-cal"));
    // A clean environment: only what each test sets.
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    c
}

#[test]
fn config_check_masks_secrets() {
    let out = bin()
        .args(["config", "check"])
        .env("UYOOP_DATABASE__URL", "postgres://app:s3cr3t-pw@db:5432/uyoop")
        .env("UYOOP_REDIS__URL", "redis://:r3d1s-pw@redis:6379")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("postgres://app:***@db:5432/uyoop"), "{text}");
    assert!(
        !text.contains("s3cr3t-pw") && !text.contains("r3d1s-pw"),
        "{text}"
    );
}

#[test]
fn bad_config_names_the_key() {
    let out = bin()
        .args(["config", "check"])
        .env("UYOOP_SERVER__BIND", "nowhere")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("error: invalid configuration: server.bind:"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(!err.contains("panicked"));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("uyoop.toml");
    std::fs::write(&file, "[database]\nmax_connections = \"many\"\n").unwrap();
    let out = bin()
        .args(["--config", file.to_str().unwrap(), "config", "check"])
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("database.max_connections"), "{err}");
}

#[test]
fn unreachable_database_is_a_clear_error() {
    let out = bin()
        .arg("migrate")
        .env(
            "UYOOP_DATABASE__URL",
            "postgres://postgres:pw@127.0.0.1:1/nothing",
        )
        .env("UYOOP_DATABASE__ACQUIRE_TIMEOUT_SECS", "2")
        .env("UYOOP_LOG__FORMAT", "json")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    let last = err.trim_end().lines().last().unwrap();
    assert!(last.starts_with("error: service unavailable: cannot connect to PostgreSQL at postgres://postgres:***@127.0.0.1:1/nothing"), "{err}");
    assert!(!err.contains("panicked") && !err.contains(":pw@"), "{err}");
}

#[test]
fn migrate_creates_the_embedded_database() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin().arg("migrate").current_dir(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        dir.path().join("data/uyoop.db").exists(),
        "the default is ./data/uyoop.db"
    );
}

#[test]
fn admin_create_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], stdin: &str| {
        let mut child = bin()
            .args(args)
            .current_dir(dir.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let args = [
        "admin",
        "create",
        "--username",
        "root",
        "--email",
        "root@example.com",
        "--role",
        "ADMIN",
    ];
    let out = run(&args, "a long enough passphrase\n");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("created root (ADMIN)"));
    // Same username again: a clear conflict, no panic.
    let out = run(&args, "a long enough passphrase\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(err.starts_with("error: duplicate"), "{err}");
    // The password policy applies.
    let out = run(
        &["admin", "create", "--username", "x2", "--email", "x2@example.com"],
        "short\n",
    );
    assert_eq!(out.status.code(), Some(1));
    let out = run(
        &[
            "admin",
            "create",
            "--username",
            "x3",
            "--email",
            "x3@example.com",
            "--role",
            "BOSS",
        ],
        "a long enough passphrase\n",
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("PROJET, DEV, OPS, ADMIN"));
}

#[test]
fn signing_keys_rotate_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let rotate = || {
        bin()
            .args(["admin", "rotate-signing-key"])
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let first = rotate();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let second = rotate();
    let kid = |o: &std::process::Output| {
        String::from_utf8_lossy(&o.stdout)
            .split_whitespace()
            .nth(3)
            .unwrap_or_default()
            .to_owned()
    };
    assert_ne!(kid(&first), kid(&second), "each rotation makes a new current key");
    // Both keys stay in the keyring, so tokens signed with the first keep verifying.
    let keyring = std::fs::read_to_string(dir.path().join("data/keyring.json")).unwrap();
    assert!(keyring.contains(&kid(&first)) && keyring.contains(&kid(&second)));
}
