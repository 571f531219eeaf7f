//! The site PKI, parsed back with x509-parser: chain, SANs, key usages, lifetimes, file modes,
//! keep-on-re-render and --rotate.

use std::collections::BTreeSet;
use std::path::Path;

use x509_parser::extensions::GeneralName;
use x509_parser::pem::parse_x509_pem;
use x509_parser::prelude::*;

use crate::helpers::{example, read_tree, render_into};

fn pem_der(path: &Path) -> Vec<u8> {
    let text = std::fs::read(path).unwrap();
    let (_, pem) = parse_x509_pem(&text).unwrap();
    pem.contents
}

fn with_cert<T>(path: &Path, f: impl FnOnce(&X509Certificate<'_>) -> T) -> T {
    let der = pem_der(path);
    let (_, cert) = X509Certificate::from_der(&der).unwrap();
    f(&cert)
}

fn sans(cert: &X509Certificate<'_>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if let Ok(Some(ext)) = cert.subject_alternative_name() {
        for name in &ext.value.general_names {
            match name {
                GeneralName::DNSName(d) => {
                    out.insert((*d).to_owned());
                }
                GeneralName::IPAddress(ip) if ip.len() == 4 => {
                    out.insert(format!("{}.{}.{}.{}", ip[0], ip[1], ip[2], ip[3]));
                }
                _ => {}
            }
        }
    }
    out
}

fn days(cert: &X509Certificate<'_>) -> i64 {
    (cert.validity().not_after.timestamp() - cert.validity().not_before.timestamp()) / 86_400
}

fn eku(cert: &X509Certificate<'_>) -> (bool, bool) {
    let e = cert.extended_key_usage().unwrap().expect("EKU present").value;
    (e.server_auth, e.client_auth)
}

#[test]
fn chain_sans_usages_and_lifetimes() {
    let dir = tempfile::tempdir().unwrap();
    render_into(&example(), dir.path(), false);
    let pki = dir.path().join("pki");

    let root_der = pem_der(&pki.join("ca/root.crt"));
    let (_, root) = X509Certificate::from_der(&root_der).unwrap();
    let int_der = pem_der(&pki.join("ca/intermediate.crt"));
    let (_, int) = X509Certificate::from_der(&int_der).unwrap();

    // Root: self-signed CA, path length 1, 10 years.
    root.verify_signature(None).expect("root is self-signed");
    let bc = root.basic_constraints().unwrap().unwrap().value;
    assert!(bc.ca);
    assert_eq!(bc.path_len_constraint, Some(1));
    assert!(root.key_usage().unwrap().unwrap().value.key_cert_sign());
    assert!(
        (3649..=3651).contains(&days(&root)),
        "root lifetime {}",
        days(&root)
    );

    // Intermediate: signed by the root, path length 0, 5 years.
    int.verify_signature(Some(root.public_key()))
        .expect("intermediate signed by root");
    assert_eq!(int.issuer(), root.subject());
    let bc = int.basic_constraints().unwrap().unwrap().value;
    assert!(bc.ca);
    assert_eq!(bc.path_len_constraint, Some(0));
    assert!((1824..=1826).contains(&days(&int)));

    // Leaves: signed by the intermediate, not CAs, 1 year, right EKUs and SANs.
    let leaves = [
        (
            "server/vault",
            (true, true),
            vec![
                "vault-0.vault-internal",
                "vault-2.vault-internal.vault.svc",
                "vault.vault.svc",
                "vault-active.vault.svc",
                "127.0.0.1",
                "localhost",
            ],
        ),
        (
            "server/postgres",
            (true, false),
            vec![
                "uyoop-pg-0.uyoop-pg.postgres.svc.cluster.local",
                "uyoop-pg.postgres.svc",
                "uyoop-pg-repl.postgres.svc",
            ],
        ),
        (
            "server/redis",
            (true, false),
            vec!["redis-master.redis.svc", "redis-headless.redis.svc.cluster.local"],
        ),
        (
            "server/app",
            (true, false),
            vec!["cal.example.com", "uyoop-cal.uyoop.svc"],
        ),
        ("client/app-vault", (false, true), vec![]),
        ("client/app-postgres", (false, true), vec![]),
        ("client/operator", (false, true), vec![]),
    ];
    for (name, usage, expected_sans) in leaves {
        with_cert(&pki.join(format!("{name}.crt")), |leaf| {
            leaf.verify_signature(Some(int.public_key()))
                .unwrap_or_else(|e| panic!("{name} not signed by the intermediate: {e}"));
            assert_eq!(leaf.issuer(), int.subject(), "{name}");
            let bc = leaf.basic_constraints().unwrap().map(|b| b.value.ca);
            assert_ne!(bc, Some(true), "{name} must not be a CA");
            assert!(
                (364..=366).contains(&days(leaf)),
                "{name} lifetime {}",
                days(leaf)
            );
            assert_eq!(eku(leaf), usage, "{name} EKU (serverAuth, clientAuth)");
            assert!(
                leaf.key_usage().unwrap().unwrap().value.digital_signature(),
                "{name}"
            );
            let got = sans(leaf);
            for s in &expected_sans {
                assert!(got.contains(*s), "{name} lacks SAN {s}: {got:?}");
            }
        });
    }
    // The app's PostgreSQL client certificate maps to the database role by its CN.
    with_cert(&pki.join("client/app-postgres.crt"), |c| {
        let cn = c
            .subject()
            .iter_common_name()
            .next()
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(cn, "uyoop");
    });
    // Full chains are leaf then intermediate.
    let chain = std::fs::read_to_string(pki.join("server/vault.fullchain.crt")).unwrap();
    assert_eq!(chain.matches("BEGIN CERTIFICATE").count(), 2);
}

#[cfg(unix)]
#[test]
fn private_keys_are_0600_and_certificates_0644() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    render_into(&example(), dir.path(), false);
    let mut keys = 0;
    for path in read_tree(dir.path())
        .keys()
        .filter(|p| p.starts_with("pki/") || *p == "ansible/secrets.yml")
    {
        let mode = std::fs::metadata(dir.path().join(path))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        if path.ends_with(".key") || path.ends_with("k3s-token") || path.ends_with("secrets.yml") {
            assert_eq!(mode, 0o600, "{path}");
            keys += 1;
        } else {
            assert_eq!(mode, 0o644, "{path}");
        }
    }
    assert!(keys >= 10, "{keys} keys");
}

#[test]
fn rerender_keeps_the_pki_and_rotate_replaces_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = example();
    render_into(&config, dir.path(), false);
    let pki = |p: &str| std::fs::read(dir.path().join("pki").join(p)).unwrap();
    let (root_key, vault_key, vault_crt, token) = (
        pki("ca/root.key"),
        pki("server/vault.key"),
        pki("server/vault.crt"),
        pki("k3s-token"),
    );

    render_into(&config, dir.path(), false);
    assert_eq!(pki("ca/root.key"), root_key, "re-render keeps the root key");
    assert_eq!(pki("server/vault.key"), vault_key, "re-render keeps the leaf key");
    assert_eq!(pki("server/vault.crt"), vault_crt);

    // A changed leaf specification (new domain) reissues that leaf under the same CA only.
    let mut changed = config;
    changed.domain = "calendar.example.com".into();
    let app_key = pki("server/app.key");
    render_into(&changed, dir.path(), false);
    assert_eq!(pki("ca/root.key"), root_key);
    assert_eq!(pki("server/vault.key"), vault_key);
    assert_ne!(
        pki("server/app.key"),
        app_key,
        "the app certificate follows the domain"
    );
    with_cert(&dir.path().join("pki/server/app.crt"), |c| {
        assert!(sans(c).contains("calendar.example.com"))
    });

    render_into(&changed, dir.path(), true);
    assert_ne!(pki("ca/root.key"), root_key, "--rotate issues a new root");
    assert_ne!(pki("server/vault.key"), vault_key, "--rotate issues new leaves");
    assert_eq!(
        pki("k3s-token"),
        token,
        "--rotate never changes the K3s join token"
    );
}

#[test]
fn every_secret_of_the_manifest_points_at_rendered_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = example();
    config.tls = uyoop_install::config::Tls::Internal;
    render_into(&config, dir.path(), false);
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("pki/manifest.json")).unwrap())
            .unwrap();
    let secrets = manifest["secrets"].as_object().unwrap();
    assert!(secrets.contains_key("vault/vault-tls"));
    assert!(
        secrets.contains_key("cert-manager/uyoop-intermediate-ca"),
        "internal TLS needs the CA issuer's Secret"
    );
    for (name, files) in secrets {
        for (key, file) in files.as_object().unwrap() {
            let file = file.as_str().unwrap();
            assert!(
                dir.path().join("pki").join(file).is_file(),
                "{name}.{key}: pki/{file} missing"
            );
        }
    }
}
