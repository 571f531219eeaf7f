//! TLS to OpenBao: the server's certificate is trusted through `vault.cacert` only, and a listener
//! that requires client certificates accepts the app with `vault.client_cert` / `vault.client_key`
//! and refuses it without them. Certificates are made here (rcgen) for 127.0.0.1.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair};
use uyoop_cal::Error;
use uyoop_cal::config::{Secret, VaultSettings};
use uyoop_cal::secrets::{RetryPolicy, SecretStore, VaultStore};

use super::{Bao, free_port, unavailable_message};

struct Pki {
    ca: PathBuf,
    server_cert: PathBuf,
    server_key: PathBuf,
    client_cert: PathBuf,
    client_key: PathBuf,
}

fn write_pki(dir: &Path) -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, &ca_key);
    let leaf = |sans: Vec<String>, usage: ExtendedKeyUsagePurpose| {
        let mut params = CertificateParams::new(sans).unwrap();
        params.extended_key_usages = vec![usage];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    };
    let (server_cert, server_key) = leaf(
        vec!["127.0.0.1".to_owned(), "localhost".to_owned()],
        ExtendedKeyUsagePurpose::ServerAuth,
    );
    let (client_cert, client_key) = leaf(vec!["uyoop-cal".to_owned()], ExtendedKeyUsagePurpose::ClientAuth);
    let pki = Pki {
        ca: dir.join("ca.pem"),
        server_cert: dir.join("server.pem"),
        server_key: dir.join("server-key.pem"),
        client_cert: dir.join("client.pem"),
        client_key: dir.join("client-key.pem"),
    };
    std::fs::write(&pki.ca, ca_cert.pem()).unwrap();
    std::fs::write(&pki.server_cert, server_cert).unwrap();
    std::fs::write(&pki.server_key, server_key).unwrap();
    std::fs::write(&pki.client_cert, client_cert).unwrap();
    std::fs::write(&pki.client_key, client_key).unwrap();
    pki
}

/// A dev server with two more TLS listeners: one plain TLS, one that requires a client
/// certificate signed by the test CA. Returns the server and the two HTTPS addresses.
async fn bao_with_tls(dir: &Path, pki: &Pki) -> (Bao, String, String) {
    let (tls_port, mtls_port) = (free_port(), free_port());
    let hcl = format!(
        r#"
listener "tcp" {{
  address = "127.0.0.1:{tls_port}"
  tls_cert_file = "{cert}"
  tls_key_file = "{key}"
}}
listener "tcp" {{
  address = "127.0.0.1:{mtls_port}"
  tls_cert_file = "{cert}"
  tls_key_file = "{key}"
  tls_require_and_verify_client_cert = true
  tls_client_ca_file = "{ca}"
}}
"#,
        cert = pki.server_cert.display(),
        key = pki.server_key.display(),
        ca = pki.ca.display(),
    );
    let config = dir.join("listeners.hcl");
    std::fs::write(&config, hcl).unwrap();
    let bao = Bao::start_with(&[format!("-config={}", config.display())]).await;
    (
        bao,
        format!("https://127.0.0.1:{tls_port}"),
        format!("https://127.0.0.1:{mtls_port}"),
    )
}

fn short() -> RetryPolicy {
    RetryPolicy {
        deadline: Duration::from_millis(500),
        ..RetryPolicy::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_cacert_and_mutual_tls_with_a_client_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let pki = write_pki(dir.path());
    let (bao, tls_addr, mtls_addr) = bao_with_tls(dir.path(), &pki).await;
    let base = VaultSettings {
        token: Some(Secret::new(bao.root_token.clone())),
        ..VaultSettings::default()
    };

    // TLS: trusted through vault.cacert.
    let tls = VaultSettings {
        addr: tls_addr.clone(),
        cacert: Some(pki.ca.clone()),
        ..base.clone()
    };
    let store = VaultStore::connect(&tls).await.unwrap();
    let ct = store.encrypt(b"over tls").await.unwrap();
    assert_eq!(store.decrypt(&ct).await.unwrap(), b"over tls");
    // Without it, the server's certificate is not trusted: the start fails closed.
    let untrusted = VaultSettings {
        addr: tls_addr,
        ..base.clone()
    };
    let msg = unavailable_message(VaultStore::connect_with(&untrusted, short()).await);
    assert!(msg.contains("vault.cacert"), "{msg}");

    // Mutual TLS: the client certificate is required and accepted.
    let mtls = VaultSettings {
        addr: mtls_addr,
        cacert: Some(pki.ca.clone()),
        client_cert: Some(pki.client_cert.clone()),
        client_key: Some(pki.client_key.clone()),
        ..base.clone()
    };
    let store = VaultStore::connect(&mtls).await.unwrap();
    store
        .put_secret("webhook/1", &Secret::new("whsec_mtls"))
        .await
        .unwrap();
    assert_eq!(
        store.get_secret("webhook/1").await.unwrap().unwrap().expose(),
        "whsec_mtls"
    );
    let anonymous = VaultSettings {
        client_cert: None,
        client_key: None,
        ..mtls.clone()
    };
    let refused = VaultStore::connect_with(&anonymous, short()).await;
    assert!(matches!(refused, Err(Error::Unavailable(_))), "{refused:?}");

    // A key file that is not a PEM key is a configuration error naming both settings.
    let broken = VaultSettings {
        client_key: Some(pki.ca.clone()),
        ..mtls
    };
    let err = VaultStore::connect(&broken).await.unwrap_err();
    assert!(err.to_string().contains("vault.client_key"), "{err}");
}
