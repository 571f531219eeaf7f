//! The site's mTLS PKI: a root CA (10 years, path length 1) signs an intermediate (5 years, path
//! length 0), which signs the server and client certificates (1 year).
//!
//! Layout under `pki/`:
//! - `ca/root.{crt,key}`, `ca/intermediate.{crt,key}`, `ca/chain.crt` (intermediate then root)
//! - `server/<name>.{crt,key}` and `server/<name>.fullchain.crt` (leaf then intermediate)
//! - `client/<name>.{crt,key}`
//! - `manifest.json`: what each certificate was issued for (no key material); a re-render
//!   reissues a leaf only when its entry changed, and keeps the CA unless `--rotate`.
//!
//! Keys are ECDSA P-256, written 0600. Certificates carry their own time stamps and serials, so
//! `pki/` is the one part of a site that is not byte-identical between two renders.

use std::collections::BTreeMap;
use std::path::Path;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::render::Site;

/// Lifetime of the root CA.
pub const ROOT_DAYS: i64 = 3650;
/// Lifetime of the intermediate CA.
pub const INTERMEDIATE_DAYS: i64 = 1825;
/// Lifetime of server and client certificates.
pub const LEAF_DAYS: i64 = 365;

/// Kubernetes namespaces the components live in (also their DNS names).
pub mod ns {
    /// The application.
    pub const APP: &str = "uyoop";
    /// Vault / OpenBao.
    pub const VAULT: &str = "vault";
    /// PostgreSQL (Patroni).
    pub const POSTGRES: &str = "postgres";
    /// Redis.
    pub const REDIS: &str = "redis";
}

/// What a leaf certificate is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Usage {
    /// TLS server only.
    Server,
    /// TLS client only.
    Client,
    /// Server that also authenticates to its peers (Vault Raft joins, exec probes).
    Peer,
}

/// One leaf certificate's specification: the manifest entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeafSpec {
    /// Subject common name.
    pub common_name: String,
    /// DNS and IP subject alternative names.
    pub sans: Vec<String>,
    /// What it is for.
    pub usage: Usage,
}

/// The manifest written to `pki/manifest.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// CA subject names.
    pub ca: BTreeMap<String, String>,
    /// Server certificates by file stem.
    pub server: BTreeMap<String, LeafSpec>,
    /// Client certificates by file stem.
    pub client: BTreeMap<String, LeafSpec>,
    /// The Kubernetes Secrets `apply` makes from these files: `namespace/name` -> Secret key ->
    /// file under `pki/`.
    pub secrets: BTreeMap<String, BTreeMap<String, String>>,
}

/// DNS names a Vault node answers to in the cluster, plus loopback for the in-pod CLI.
fn vault_sans(config: &Config) -> Vec<String> {
    let ns = ns::VAULT;
    let mut sans = Vec::new();
    for i in 0..3 {
        sans.push(format!("vault-{i}"));
        sans.push(format!("vault-{i}.vault-internal"));
        sans.push(format!("vault-{i}.vault-internal.{ns}.svc"));
        sans.push(format!("vault-{i}.vault-internal.{ns}.svc.cluster.local"));
    }
    for svc in ["vault", "vault-active", "vault-internal"] {
        sans.push(format!("{svc}.{ns}.svc"));
        sans.push(format!("{svc}.{ns}.svc.cluster.local"));
    }
    sans.push("vault".into());
    sans.push("localhost".into());
    sans.push("127.0.0.1".into());
    for n in &config.vault.nodes {
        sans.push(n.address.clone());
    }
    dedup(sans)
}

fn dedup(mut v: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    v.retain(|s| seen.insert(s.clone()));
    v
}

/// Every leaf the site needs, derived from the config.
pub fn manifest(config: &Config) -> Manifest {
    let site = &config.site;
    let mut m = Manifest::default();
    m.ca.insert("root".into(), format!("uYoop-Cal {site} Root CA"));
    m.ca.insert("intermediate".into(), format!("uYoop-Cal {site} Intermediate CA"));
    let svc = |name: &str, ns: &str| {
        vec![
            format!("{name}.{ns}.svc"),
            format!("{name}.{ns}.svc.cluster.local"),
        ]
    };

    m.server.insert(
        "vault".into(),
        LeafSpec {
            common_name: format!("vault.{}.svc", ns::VAULT),
            sans: vault_sans(config),
            usage: Usage::Peer,
        },
    );
    let pg = ns::POSTGRES;
    let mut pg_sans = Vec::new();
    for i in 0..3 {
        pg_sans.push(format!("uyoop-pg-{i}.uyoop-pg.{pg}.svc"));
        pg_sans.push(format!("uyoop-pg-{i}.uyoop-pg.{pg}.svc.cluster.local"));
    }
    for name in ["uyoop-pg", "uyoop-pg-repl", "uyoop-pg-config"] {
        pg_sans.extend(svc(name, pg));
    }
    m.server.insert(
        "postgres".into(),
        LeafSpec {
            common_name: format!("uyoop-pg.{pg}.svc"),
            sans: pg_sans,
            usage: Usage::Server,
        },
    );
    let rd = ns::REDIS;
    let mut redis_sans = svc("redis-master", rd);
    redis_sans.extend(svc("redis-headless", rd));
    redis_sans.extend(svc("redis", rd));
    for i in 0..3 {
        redis_sans.push(format!("redis-node-{i}.redis-headless.{rd}.svc.cluster.local"));
    }
    m.server.insert(
        "redis".into(),
        LeafSpec {
            common_name: format!("redis.{rd}.svc"),
            sans: redis_sans,
            usage: Usage::Server,
        },
    );
    let mut app_sans = vec![config.domain.clone()];
    app_sans.extend(svc("uyoop-cal", ns::APP));
    m.server.insert(
        "app".into(),
        LeafSpec {
            common_name: config.domain.clone(),
            sans: app_sans,
            usage: Usage::Server,
        },
    );
    m.client.insert(
        "app-vault".into(),
        LeafSpec {
            common_name: "uyoop-cal".into(),
            sans: svc("uyoop-cal", ns::APP),
            usage: Usage::Client,
        },
    );
    // PostgreSQL maps the client certificate's CN to the database role (`cert` auth in pg_hba).
    m.client.insert(
        "app-postgres".into(),
        LeafSpec {
            common_name: "uyoop".into(),
            sans: svc("uyoop-cal", ns::APP),
            usage: Usage::Client,
        },
    );
    m.client.insert(
        "prometheus".into(),
        LeafSpec {
            common_name: "prometheus".into(),
            sans: Vec::new(),
            usage: Usage::Client,
        },
    );
    m.client.insert(
        "vault-snapshot".into(),
        LeafSpec {
            common_name: "vault-snapshot".into(),
            sans: Vec::new(),
            usage: Usage::Client,
        },
    );
    secrets(config, &mut m);
    m.client.insert(
        "operator".into(),
        LeafSpec {
            common_name: format!("{site}-operator"),
            sans: Vec::new(),
            usage: Usage::Client,
        },
    );
    m
}

/// The Secrets the cluster mounts, each from PKI files (`tls.crt` is the full chain for servers).
fn secrets(config: &Config, m: &mut Manifest) {
    let mut add = |name: String, files: &[(&str, &str)]| {
        m.secrets.insert(
            name,
            files
                .iter()
                .map(|(k, f)| ((*k).to_owned(), (*f).to_owned()))
                .collect(),
        );
    };
    let chain = ("ca.crt", "ca/chain.crt");
    add(
        format!("{}/vault-tls", ns::VAULT),
        &[
            ("tls.crt", "server/vault.fullchain.crt"),
            ("tls.key", "server/vault.key"),
            chain,
        ],
    );
    add(
        format!("{}/vault-metrics-client", ns::VAULT),
        &[
            ("tls.crt", "client/prometheus.crt"),
            ("tls.key", "client/prometheus.key"),
        ],
    );
    add(
        format!("{}/vault-snapshot-client", ns::VAULT),
        &[
            ("tls.crt", "client/vault-snapshot.crt"),
            ("tls.key", "client/vault-snapshot.key"),
            chain,
        ],
    );
    add(
        format!("{}/uyoop-pg-tls", ns::POSTGRES),
        &[
            ("tls.crt", "server/postgres.fullchain.crt"),
            ("tls.key", "server/postgres.key"),
        ],
    );
    add(format!("{}/uyoop-pg-ca", ns::POSTGRES), &[chain]);
    add(
        format!("{}/redis-tls", ns::REDIS),
        &[
            ("tls.crt", "server/redis.fullchain.crt"),
            ("tls.key", "server/redis.key"),
            chain,
        ],
    );
    add(format!("{}/vault-ca-cert", ns::APP), &[chain]);
    add(
        format!("{}/uyoop-cal-vault-client", ns::APP),
        &[
            ("tls.crt", "client/app-vault.crt"),
            ("tls.key", "client/app-vault.key"),
        ],
    );
    add(
        format!("{}/uyoop-cal-db-tls", ns::APP),
        &[
            ("tls.crt", "client/app-postgres.crt"),
            ("tls.key", "client/app-postgres.key"),
            chain,
        ],
    );
    add(
        format!("{}/uyoop-cal-internal-tls", ns::APP),
        &[
            ("tls.crt", "server/app.fullchain.crt"),
            ("tls.key", "server/app.key"),
            chain,
        ],
    );
    if matches!(config.tls, crate::config::Tls::Internal) {
        // cert-manager's CA ClusterIssuer signs the public certificate with the intermediate.
        add(
            "cert-manager/uyoop-intermediate-ca".into(),
            &[("tls.crt", "ca/chain.crt"), ("tls.key", "ca/intermediate.key")],
        );
    }
}

fn issue_err(name: &str) -> impl Fn(rcgen::Error) -> Error + '_ {
    move |source| Error::Pki {
        name: name.to_owned(),
        source,
    }
}

fn validity(params: &mut CertificateParams, days: i64) {
    // Back-date a little so that a node whose clock lags by a few minutes accepts new certs.
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::minutes(5);
    params.not_after = now + Duration::days(days);
}

fn ca_params(cn: &str, path_len: u8, days: i64) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.distinguished_name.push(DnType::OrganizationName, "uYoop-Cal");
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(path_len));
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.use_authority_key_identifier_extension = true;
    validity(&mut p, days);
    p
}

fn leaf_params(spec: &LeafSpec) -> std::result::Result<CertificateParams, rcgen::Error> {
    let mut p = CertificateParams::new(spec.sans.clone())?;
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name
        .push(DnType::CommonName, spec.common_name.as_str());
    p.distinguished_name.push(DnType::OrganizationName, "uYoop-Cal");
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    p.extended_key_usages = match spec.usage {
        Usage::Server => vec![ExtendedKeyUsagePurpose::ServerAuth],
        Usage::Client => vec![ExtendedKeyUsagePurpose::ClientAuth],
        Usage::Peer => vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ],
    };
    p.use_authority_key_identifier_extension = true;
    validity(&mut p, LEAF_DAYS);
    Ok(p)
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })
}

fn unusable(path: &Path, reason: impl Into<String>) -> Error {
    Error::PkiExisting {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

/// What `ensure` did, for the progress line.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Certificates newly issued.
    pub issued: Vec<String>,
    /// Certificates kept from a previous render.
    pub kept: Vec<String>,
}

/// Creates the PKI under `site/pki`, or keeps the existing one: the CA is reused unless `rotate`,
/// and each leaf is reissued only when missing or when its manifest entry changed.
pub fn ensure(config: &Config, site: &mut Site, rotate: bool) -> Result<Outcome> {
    let dir = site.root().join("pki");
    let wanted = manifest(config);
    let old: Option<Manifest> = std::fs::read_to_string(dir.join("manifest.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    let ca_files = [
        "ca/root.crt",
        "ca/root.key",
        "ca/intermediate.crt",
        "ca/intermediate.key",
    ];
    let ca_present = ca_files.iter().all(|f| dir.join(f).exists());
    let keep_ca = !rotate && ca_present && old.as_ref().is_some_and(|o| o.ca == wanted.ca);
    let mut outcome = Outcome::default();

    let (int_cert_pem, int_key) = if keep_ca {
        let key_path = dir.join("ca/intermediate.key");
        let key = KeyPair::from_pem(&read(&key_path)?).map_err(|e| unusable(&key_path, e.to_string()))?;
        for f in ca_files {
            site.keep(&format!("pki/{f}"));
        }
        site.keep("pki/ca/chain.crt");
        outcome.kept.push("ca".into());
        (read(&dir.join("ca/intermediate.crt"))?, key)
    } else {
        let root_key = KeyPair::generate().map_err(issue_err("root CA"))?;
        let root_params = ca_params(&wanted.ca["root"], 1, ROOT_DAYS);
        let root_cert = root_params.self_signed(&root_key).map_err(issue_err("root CA"))?;
        let root_issuer = Issuer::new(root_params, &root_key);
        let int_key = KeyPair::generate().map_err(issue_err("intermediate CA"))?;
        let int_params = ca_params(&wanted.ca["intermediate"], 0, INTERMEDIATE_DAYS);
        let int_cert = int_params
            .signed_by(&int_key, &root_issuer)
            .map_err(issue_err("intermediate CA"))?;
        site.write("pki/ca/root.crt", root_cert.pem())?;
        site.write_secret("pki/ca/root.key", root_key.serialize_pem())?;
        site.write("pki/ca/intermediate.crt", int_cert.pem())?;
        site.write_secret("pki/ca/intermediate.key", int_key.serialize_pem())?;
        site.write(
            "pki/ca/chain.crt",
            format!("{}{}", int_cert.pem(), root_cert.pem()),
        )?;
        outcome.issued.push("ca".into());
        (int_cert.pem(), int_key)
    };
    let int_path = dir.join("ca/intermediate.crt");
    let issuer =
        Issuer::from_ca_cert_pem(&int_cert_pem, &int_key).map_err(|e| unusable(&int_path, e.to_string()))?;

    for (kind, wanted_set, old_set) in [
        ("server", &wanted.server, old.as_ref().map(|o| &o.server)),
        ("client", &wanted.client, old.as_ref().map(|o| &o.client)),
    ] {
        for (name, spec) in wanted_set {
            let stem = format!("pki/{kind}/{name}");
            let files_present = dir.join(format!("{kind}/{name}.crt")).exists()
                && dir.join(format!("{kind}/{name}.key")).exists();
            let unchanged = old_set.and_then(|s| s.get(name)) == Some(spec);
            if keep_ca && files_present && unchanged {
                site.keep(&format!("{stem}.crt"));
                site.keep(&format!("{stem}.key"));
                if kind == "server" {
                    site.keep(&format!("{stem}.fullchain.crt"));
                }
                outcome.kept.push(format!("{kind}/{name}"));
                continue;
            }
            let key = KeyPair::generate().map_err(issue_err(name))?;
            let cert = leaf_params(spec)
                .and_then(|p| p.signed_by(&key, &issuer))
                .map_err(issue_err(name))?;
            site.write(&format!("{stem}.crt"), cert.pem())?;
            site.write_secret(&format!("{stem}.key"), key.serialize_pem())?;
            if kind == "server" {
                site.write(
                    &format!("{stem}.fullchain.crt"),
                    format!("{}{}", cert.pem(), int_cert_pem),
                )?;
            }
            outcome.issued.push(format!("{kind}/{name}"));
        }
    }
    site.json("pki/manifest.json", &wanted)?;
    Ok(outcome)
}

/// Paths, relative to the site, of files that hold key material or per-issue data (serials,
/// dates): everything under `pki/` but the manifest, and `ansible/secrets.yml`.
pub fn is_key_material(relative: &Path) -> bool {
    (relative.starts_with("pki") && relative != Path::new("pki/manifest.json"))
        || relative == Path::new("ansible/secrets.yml")
}
