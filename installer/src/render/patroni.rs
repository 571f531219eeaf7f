//! `patroni/`: the Patroni configuration of the three PostgreSQL members (`uyoop-pg-0..2`),
//! Kubernetes as the DCS, TLS from the site PKI, synchronous replication when configured, WAL
//! archived continuously to the backup bucket. Passwords are never written: Patroni reads them
//! from `PATRONI_SUPERUSER_PASSWORD`, `PATRONI_REPLICATION_PASSWORD` and
//! `PATRONI_REWIND_PASSWORD`, set from a Secret.

use serde_json::{Value, json};

use crate::config::Config;
use crate::error::Result;
use crate::render::pki::ns;
use crate::render::{HEADER, Site};

/// Patroni scope: the cluster name, also the name of its Services.
pub const SCOPE: &str = "uyoop-pg";
/// Members of the cluster.
pub const MEMBERS: u32 = 3;
/// Where the members mount the TLS Secret.
pub const TLS_DIR: &str = "/etc/patroni/tls";

/// DNS name of member `i`.
pub fn member_host(i: u32) -> String {
    format!("{SCOPE}-{i}.{SCOPE}.{}.svc.cluster.local", ns::POSTGRES)
}

/// The settings Patroni writes to the DCS at bootstrap (shared by every member).
pub fn dcs(c: &Config) -> Value {
    json!({
        "ttl": 30,
        "loop_wait": 10,
        "retry_timeout": 10,
        "maximum_lag_on_failover": 1_048_576,
        // With synchronous_mode a commit returns once a replica has it: a failover loses no
        // acknowledged write. Not strict: with both replicas down the primary keeps accepting.
        "synchronous_mode": c.postgres.synchronous,
        "synchronous_mode_strict": false,
        "synchronous_node_count": 1,
        "failsafe_mode": true,
        "postgresql": {
            "use_pg_rewind": true,
            "use_slots": true,
            "parameters": {
                "wal_level": "replica",
                "hot_standby": "on",
                "max_connections": 200,
                "max_wal_senders": 10,
                "max_replication_slots": 10,
                "wal_keep_size": "1GB",
                "wal_log_hints": "on",
                "archive_mode": "on",
                "archive_timeout": "300s",
                "archive_command": "wal-g wal-push %p",
                "password_encryption": "scram-sha-256",
                "ssl": "on",
                "ssl_min_protocol_version": "TLSv1.2",
                "ssl_cert_file": format!("{TLS_DIR}/tls.crt"),
                "ssl_key_file": format!("{TLS_DIR}/tls.key"),
                "ssl_ca_file": format!("{TLS_DIR}/ca.crt"),
                "log_connections": "on",
                "log_disconnections": "on",
            },
        },
    })
}

/// Client authentication: TLS only; the app by certificate (its CN is the role), replication
/// and admin by SCRAM over TLS; everything else refused.
pub fn pg_hba() -> Vec<String> {
    vec![
        "local   all          postgres                  peer".into(),
        "hostssl replication  standby   all             scram-sha-256".into(),
        "hostssl all          uyoop     all             cert".into(),
        "hostssl all          all       all             scram-sha-256".into(),
        "host    all          all       all             reject".into(),
    ]
}

/// The configuration of member `i`.
pub fn member(c: &Config, i: u32) -> Value {
    let host = member_host(i);
    json!({
        "scope": SCOPE,
        "name": format!("{SCOPE}-{i}"),
        "restapi": {
            "listen": "0.0.0.0:8008",
            "connect_address": format!("{host}:8008"),
            "certfile": format!("{TLS_DIR}/tls.crt"),
            "keyfile": format!("{TLS_DIR}/tls.key"),
            "cafile": format!("{TLS_DIR}/ca.crt"),
            "verify_client": "optional",
        },
        "kubernetes": {
            "namespace": ns::POSTGRES,
            "labels": {"application": "patroni", "cluster-name": SCOPE},
            "use_endpoints": true,
        },
        "bootstrap": {
            "dcs": dcs(c),
            "initdb": [{"encoding": "UTF8"}, {"locale": "C.UTF-8"}, "data-checksums"],
            "pg_hba": pg_hba(),
        },
        "postgresql": {
            "listen": "0.0.0.0:5432",
            "connect_address": format!("{host}:5432"),
            "data_dir": "/home/postgres/pgdata/pgroot/data",
            "pgpass": "/tmp/pgpass",
            "authentication": {
                "superuser": {"username": "postgres"},
                "replication": {"username": "standby", "sslmode": "verify-full", "sslrootcert": format!("{TLS_DIR}/ca.crt")},
                "rewind": {"username": "rewind_user", "sslmode": "verify-full", "sslrootcert": format!("{TLS_DIR}/ca.crt")},
            },
            "parameters": {"unix_socket_directories": "/var/run/postgresql"},
            "pg_hba": pg_hba(),
            "use_pg_rewind": true,
            "create_replica_methods": ["basebackup"],
            "basebackup": [{"checkpoint": "fast"}, {"max-rate": "200M"}],
            "recovery_conf": {"restore_command": "wal-g wal-fetch %f %p"},
        },
        "watchdog": {"mode": "off"},
        "tags": {"nofailover": false, "noloadbalance": false, "clonefrom": false, "nosync": false},
    })
}

/// Writes `patroni/patroni.yml` (member 0, the reference) and one file per member.
pub fn render(c: &Config, site: &mut Site) -> Result<()> {
    for i in 0..MEMBERS {
        site.yaml(&format!("patroni/{SCOPE}-{i}.yml"), HEADER, &member(c, i))?;
    }
    site.yaml("patroni/patroni.yml", HEADER, &member(c, 0))
}
