//! Kubernetes auth against a real OpenBao: its built-in `kubernetes` auth method asks a stand-in
//! for the Kubernetes TokenReview API (served here on loopback) whether the pod's token is valid.
//! The store logs in with the token file, logs in again before its Vault token expires and after
//! the token is revoked, and says what to check when the role is wrong or the file is missing.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Json;
use axum::routing::post;
use base64::Engine;
use serde_json::{Value, json};
use tokio::time::Instant;
use uyoop_cal::config::{Secret, VaultSettings};
use uyoop_cal::secrets::{SecretStore, VaultStore};

use super::{Bao, unavailable_message};

const NAMESPACE: &str = "uyoop";
const ACCOUNT: &str = "uyoop-cal";
const UID: &str = "7d5c2a9e-2f4b-4d1e-9c3a-5b6f7e8d9a0b";

/// A CA certificate for the (plain HTTP) stand-in API server: OpenBao requires one in the config.
/// Public test material: its private key was never kept.
const KUBERNETES_CA: &str = "\
-----BEGIN CERTIFICATE-----
MIIBnjCCAUOgAwIBAgIUCXhWjq93PN4DhT7k/pcIj9gbIE4wCgYIKoZIzj0EAwIw
IzEhMB8GA1UEAwwYdXlvb3AtdGVzdC1rdWJlcm5ldGVzLWNhMCAXDTI2MTEyNTEz
NDE0MFoYDzIxMjYxMTAxMTM0MTQwWjAjMSEwHwYDVQQDDBh1eW9vcC10ZXN0LWt1
YmVybmV0ZXMtY2EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAATguQEjX4yBT7a5
G1Ht0BINSSXmxWT14Nlyh8PujI3AJcm1ZxVdRD5t0bS7nVerTVp1s10ZR0gDcMCl
kZZYhqMjo1MwUTAdBgNVHQ4EFgQULJXUbAuAnHZZres4suHeRWDeiaswHwYDVR0j
BBgwFoAULJXUbAuAnHZZres4suHeRWDeiaswDwYDVR0TAQH/BAUwAwEB/zAKBggq
hkjOPQQDAgNJADBGAiEAwaoiYa2KjUrNzuRPyJRAmvB23AKzLKTfFzvcQ08xgcMC
IQC+2TUpOsoShtwpJwb08Xj6fXrrQnBq9bwPJMVwEg1F3Q==
-----END CERTIFICATE-----
";

/// A TokenReview endpoint that accepts every token as the app's service account; counts calls.
async fn fake_token_review() -> (String, Arc<AtomicUsize>) {
    let reviews = Arc::new(AtomicUsize::new(0));
    let counter = reviews.clone();
    let app = axum::Router::new().route(
        "/apis/authentication.k8s.io/v1/tokenreviews",
        post(move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                Json(json!({
                    "apiVersion": "authentication.k8s.io/v1",
                    "kind": "TokenReview",
                    "status": {
                        "authenticated": true,
                        "user": {
                            "username": format!("system:serviceaccount:{NAMESPACE}:{ACCOUNT}"),
                            "uid": UID,
                        }
                    }
                }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (format!("http://{addr}"), reviews)
}

/// A projected service-account token as the kubelet writes it (the signature is not checked by
/// OpenBao without configured public keys: the TokenReview is what vouches for it).
fn service_account_jwt() -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let header = json!({"alg": "RS256", "kid": "test", "typ": "JWT"});
    let claims = json!({
        "iss": "https://kubernetes.default.svc.cluster.local",
        "sub": format!("system:serviceaccount:{NAMESPACE}:{ACCOUNT}"),
        "iat": now,
        "exp": now + 3600,
        "kubernetes.io": {
            "namespace": NAMESPACE,
            "serviceaccount": {"name": ACCOUNT, "uid": UID},
        },
    });
    format!(
        "{}.{}.{}",
        b64.encode(header.to_string()),
        b64.encode(claims.to_string()),
        b64.encode(b"not-checked")
    )
}

async fn bao_with_kubernetes_auth(token_ttl: &str) -> (Bao, Arc<AtomicUsize>) {
    let bao = Bao::start().await;
    let (kube, reviews) = fake_token_review().await;
    bao.sys("POST", "sys/auth/kubernetes", json!({"type": "kubernetes"}))
        .await;
    bao.sys(
        "POST",
        "auth/kubernetes/config",
        json!({
            "kubernetes_host": kube,
            "disable_local_ca_jwt": true,
            "kubernetes_ca_cert": KUBERNETES_CA,
            "disable_iss_validation": true,
        }),
    )
    .await;
    let policy = r#"
        path "transit/keys/uyoop-cal-totp" { capabilities = ["read", "create", "update"] }
        path "transit/encrypt/uyoop-cal-totp" { capabilities = ["update"] }
        path "transit/decrypt/uyoop-cal-totp" { capabilities = ["update"] }
        path "secret/data/uyoop-cal/*" { capabilities = ["create", "read", "update"] }
    "#;
    bao.sys("PUT", "sys/policies/acl/uyoop-cal", json!({ "policy": policy }))
        .await;
    bao.sys(
        "POST",
        "auth/kubernetes/role/uyoop-cal",
        json!({
            "bound_service_account_names": [ACCOUNT],
            "bound_service_account_namespaces": [NAMESPACE],
            "token_policies": ["uyoop-cal"],
            "token_ttl": token_ttl,
            "token_max_ttl": token_ttl,
        }),
    )
    .await;
    (bao, reviews)
}

fn kubernetes_settings(bao: &Bao, dir: &tempfile::TempDir, role: &str) -> VaultSettings {
    let jwt_path = dir.path().join("token");
    std::fs::write(&jwt_path, service_account_jwt()).unwrap();
    VaultSettings {
        addr: bao.addr(),
        token: None,
        role: Some(role.to_owned()),
        jwt_path,
        ..VaultSettings::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubernetes_auth_logs_in_and_again_before_the_token_expires() {
    let (bao, reviews) = bao_with_kubernetes_auth("3s").await;
    let dir = tempfile::tempdir().unwrap();
    let store = VaultStore::connect(&kubernetes_settings(&bao, &dir, "uyoop-cal"))
        .await
        .unwrap();
    assert_eq!(reviews.load(Ordering::SeqCst), 1, "one login at start");
    store
        .put_secret("webhook/1", &Secret::new("whsec_k8s"))
        .await
        .unwrap();
    let ct = store.encrypt(b"seed").await.unwrap();

    // The token lives 3 s; the store logs in again after 2 s, so calls never see it expire.
    let deadline = Instant::now() + Duration::from_secs(30);
    while reviews.load(Ordering::SeqCst) < 3 {
        assert!(Instant::now() < deadline, "no new login before the token expired");
        assert_eq!(
            store.get_secret("webhook/1").await.unwrap().unwrap().expose(),
            "whsec_k8s"
        );
        assert_eq!(store.decrypt(&ct).await.unwrap(), b"seed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubernetes_auth_logs_in_again_when_the_token_is_revoked() {
    let (bao, reviews) = bao_with_kubernetes_auth("1h").await;
    let dir = tempfile::tempdir().unwrap();
    let store = VaultStore::connect(&kubernetes_settings(&bao, &dir, "uyoop-cal"))
        .await
        .unwrap();
    store.jwt_keys().await.unwrap();
    let before = reviews.load(Ordering::SeqCst);
    // Every token that came from a Kubernetes login is revoked at once.
    bao.sys(
        "PUT",
        "sys/leases/revoke-prefix/auth/kubernetes/login",
        Value::Null,
    )
    .await;
    store.rotate_jwt_key().await.unwrap();
    assert_eq!(
        reviews.load(Ordering::SeqCst),
        before + 1,
        "exactly one new login"
    );
    store.health().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubernetes_auth_errors_say_what_to_check() {
    let (bao, _) = bao_with_kubernetes_auth("1h").await;
    let dir = tempfile::tempdir().unwrap();
    let msg = unavailable_message(VaultStore::connect(&kubernetes_settings(&bao, &dir, "nope")).await);
    assert!(
        msg.contains("vault.role `nope`") && msg.contains("vault.auth_path"),
        "{msg}"
    );
    let jwt = std::fs::read_to_string(dir.path().join("token")).unwrap();
    assert!(!msg.contains(&jwt), "the service-account token is never shown");

    let mut settings = kubernetes_settings(&bao, &dir, "uyoop-cal");
    settings.jwt_path = dir.path().join("missing");
    let msg = unavailable_message(VaultStore::connect(&settings).await);
    assert!(msg.contains("vault.jwt_path") && msg.contains("missing"), "{msg}");
}
