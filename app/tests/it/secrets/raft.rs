//! The fault the product must survive: the OpenBao leader killed while the app uses Vault.
//! A real three-node Raft cluster on loopback (plain HTTP, one unseal key); the store talks to a
//! standby, the leader is killed, and every call still succeeds after the bounded retries.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;
use uyoop_cal::config::{Secret, VaultSettings};
use uyoop_cal::secrets::{SecretStore, VaultStore};

use super::{START_DEADLINE, bao_binary, free_port};

/// The nodes; killed when the test ends, however it ends.
struct Nodes(Vec<Option<Child>>);

impl Drop for Nodes {
    fn drop(&mut self) {
        for child in self.0.iter_mut().flatten() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

struct Node {
    api: u16,
    cluster: u16,
}

impl Node {
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/v1/{path}", self.api)
    }
}

fn write_config(dir: &Path, i: usize, nodes: &[Node]) -> std::path::PathBuf {
    let data = dir.join(format!("raft-{i}"));
    std::fs::create_dir_all(&data).unwrap();
    let joins: String = nodes
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != i)
        .map(|(_, n)| {
            format!(
                "  retry_join {{\n    leader_api_addr = \"http://127.0.0.1:{}\"\n  }}\n",
                n.api
            )
        })
        .collect();
    let me = &nodes[i];
    // performance_multiplier = 1: production Raft timings (the default 5 is for slow disks).
    let hcl = format!(
        r#"storage "raft" {{
  path = "{data}"
  node_id = "node-{i}"
  performance_multiplier = 1
{joins}}}
listener "tcp" {{
  address = "127.0.0.1:{api}"
  cluster_address = "127.0.0.1:{cluster}"
  tls_disable = true
}}
api_addr = "http://127.0.0.1:{api}"
cluster_addr = "https://127.0.0.1:{cluster}"
disable_mlock = true
"#,
        data = data.display(),
        api = me.api,
        cluster = me.cluster,
    );
    let path = dir.join(format!("node-{i}.hcl"));
    std::fs::write(&path, hcl).unwrap();
    path
}

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    token: Option<&str>,
    body: &Value,
) -> Option<(u16, Value)> {
    let mut req = http.request(method, url);
    if let Some(t) = token {
        req = req.header("X-Vault-Token", t);
    }
    if !body.is_null() {
        req = req.json(body);
    }
    let resp = req.send().await.ok()?;
    let status = resp.status().as_u16();
    Some((status, resp.json().await.unwrap_or(Value::Null)))
}

/// Polls `check` until it yields a value; panics with the nodes' logs after the deadline.
async fn wait_for<T, F, Fut>(what: &str, dir: &Path, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + START_DEADLINE;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if Instant::now() > deadline {
            let logs: String = (0..3)
                .map(|i| {
                    let log = std::fs::read_to_string(dir.join(format!("node-{i}.log"))).unwrap_or_default();
                    format!("--- node-{i}\n{log}\n")
                })
                .collect();
            panic!("timed out waiting for {what}\n{logs}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_survive_the_raft_leader_being_killed() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let nodes: Vec<Node> = (0..3)
        .map(|_| Node {
            api: free_port(),
            cluster: free_port(),
        })
        .collect();
    let mut children = Vec::new();
    for i in 0..3 {
        let config = write_config(dir, i, &nodes);
        let log = std::fs::File::create(dir.join(format!("node-{i}.log"))).unwrap();
        let child = Command::new(bao_binary())
            .args(["server", &format!("-config={}", config.display())])
            .env("HOME", dir)
            .env_remove("BAO_ADDR")
            .env_remove("VAULT_ADDR")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        children.push(Some(child));
    }
    let mut running = Nodes(children);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let (get, put, post) = (reqwest::Method::GET, reqwest::Method::PUT, reqwest::Method::POST);

    // Node 0: initialized, unsealed, leader. Nodes 1 and 2 join it and are unsealed.
    for n in &nodes {
        wait_for("the nodes to listen", dir, || async {
            call(&http, get.clone(), &n.url("sys/seal-status"), None, &Value::Null)
                .await
                .filter(|(s, _)| *s == 200)
        })
        .await;
    }
    let (status, init) = call(
        &http,
        put.clone(),
        &nodes[0].url("sys/init"),
        None,
        &json!({"secret_shares": 1, "secret_threshold": 1}),
    )
    .await
    .unwrap();
    assert_eq!(status, 200, "init: {init}");
    let key = init["keys_base64"][0].as_str().unwrap().to_owned();
    let root = init["root_token"].as_str().unwrap().to_owned();
    for (i, n) in nodes.iter().enumerate() {
        wait_for(&format!("node-{i} to unseal"), dir, || async {
            let (_, body) = call(
                &http,
                put.clone(),
                &n.url("sys/unseal"),
                None,
                &json!({ "key": key }),
            )
            .await?;
            (body["sealed"] == false).then_some(())
        })
        .await;
    }
    wait_for("three Raft voters", dir, || async {
        let (status, body) = call(
            &http,
            get.clone(),
            &nodes[0].url("sys/storage/raft/configuration"),
            Some(&root),
            &Value::Null,
        )
        .await?;
        let servers = body["data"]["config"]["servers"].as_array()?.clone();
        (status == 200 && servers.len() == 3 && servers.iter().all(|s| s["voter"] == true)).then_some(())
    })
    .await;
    for (i, n) in nodes.iter().enumerate().skip(1) {
        wait_for(&format!("node-{i} to follow the leader"), dir, || async {
            let (_, body) = call(&http, get.clone(), &n.url("sys/leader"), None, &Value::Null).await?;
            (body["is_self"] == false && body["leader_address"].as_str().is_some_and(|a| !a.is_empty()))
                .then_some(())
        })
        .await;
    }
    for (path, kind) in [
        (
            "sys/mounts/secret",
            json!({"type": "kv", "options": {"version": "2"}}),
        ),
        ("sys/mounts/transit", json!({"type": "transit"})),
    ] {
        let (s, b) = call(&http, post.clone(), &nodes[0].url(path), Some(&root), &kind)
            .await
            .unwrap();
        assert!(s == 200 || s == 204, "{path}: {s} {b}");
    }
    // A new KV v2 mount upgrades itself in the background; wait until it takes writes.
    wait_for("the KV v2 mount to accept writes", dir, || async {
        call(
            &http,
            post.clone(),
            &nodes[0].url("secret/data/probe"),
            Some(&root),
            &json!({"data": {"x": "1"}}),
        )
        .await
        .filter(|(s, _)| *s == 200)
    })
    .await;

    // The app talks to node 1, a standby (it forwards to the leader).
    let settings = VaultSettings {
        addr: format!("http://127.0.0.1:{}", nodes[1].api),
        token: Some(Secret::new(root.clone())),
        ..VaultSettings::default()
    };
    let store = VaultStore::connect(&settings).await.unwrap();
    let keys = store.jwt_keys().await.unwrap();
    let before = store.encrypt(b"seed").await.unwrap();

    // Kill the leader; the next calls run into the election and must still succeed.
    let mut leader = running.0[0].take().unwrap();
    leader.kill().unwrap();
    leader.wait().unwrap();
    let started = Instant::now();
    store
        .put_secret("webhook/1", &Secret::new("whsec_after"))
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(store.jwt_keys().await.unwrap().current, keys.current);
    assert_eq!(store.decrypt(&before).await.unwrap(), b"seed");
    let after = store.encrypt(b"seed2").await.unwrap();
    assert_eq!(store.decrypt(&after).await.unwrap(), b"seed2");
    store.rotate_jwt_key().await.unwrap();
    assert_eq!(
        store.get_secret("webhook/1").await.unwrap().unwrap().expose(),
        "whsec_after"
    );
    store.health().await.unwrap();
    eprintln!("first call after the leader was killed took {elapsed:?}");
    let (_, leader) = call(
        &http,
        get.clone(),
        &nodes[1].url("sys/leader"),
        None,
        &Value::Null,
    )
    .await
    .unwrap();
    let new_leader = leader["leader_address"].as_str().unwrap_or_default().to_owned();
    assert!(
        !new_leader.ends_with(&format!(":{}", nodes[0].api)) && !new_leader.is_empty(),
        "a surviving node leads: {leader}"
    );
}
