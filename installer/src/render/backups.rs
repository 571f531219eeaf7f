//! `backups/`: the schedules that keep the site restorable, all to the S3-compatible bucket.
//!
//! - PostgreSQL: WAL is archived continuously by Patroni (`archive_command`, see `patroni/`);
//!   `postgres-basebackup.yaml` takes a `pg_basebackup` from a replica on schedule and uploads it.
//! - Vault: `vault-snapshot.yaml` saves a Raft snapshot on schedule and uploads it.
//! - Cluster: `velero-schedule.yaml`, objects and volumes (file-system backup).
//!
//! Each job uploads with rclone, whose S3 settings come from the `backup-s3` Secret `apply`
//! makes from `backup.access_key` / `backup.secret_key`; old backups are pruned after
//! `backup.retention.days`.

use serde_json::{Value, json};

use crate::config::Config;
use crate::error::Result;
use crate::render::kubernetes::image;
use crate::render::pki::ns;
use crate::render::{HEADER, Site, patroni};

/// Pinned images of the backup jobs.
pub const POSTGRES_IMAGE: &str = "docker.io/library/postgres:16.9-bookworm";
/// See [`POSTGRES_IMAGE`].
pub const OPENBAO_IMAGE: &str = "quay.io/openbao/openbao:2.3.1";
/// See [`POSTGRES_IMAGE`].
pub const RCLONE_IMAGE: &str = "docker.io/rclone/rclone:1.69.3";

fn restricted_container(name: &str, image: &str, command: &[String], env: &Value, mounts: &Value) -> Value {
    json!({
        "name": name,
        "image": image,
        "command": command,
        "env": env,
        "volumeMounts": mounts,
        "securityContext": {
            "allowPrivilegeEscalation": false,
            "readOnlyRootFilesystem": true,
            "runAsNonRoot": true,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "resources": {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"cpu": "1", "memory": "512Mi"},
        },
    })
}

fn rclone_env(c: &Config) -> Value {
    let from_secret = |key: &str| json!({"secretKeyRef": {"name": "backup-s3", "key": key}});
    json!([
        {"name": "RCLONE_CONFIG_S3_TYPE", "value": "s3"},
        {"name": "RCLONE_CONFIG_S3_PROVIDER", "value": "Other"},
        {"name": "RCLONE_CONFIG_S3_ENDPOINT", "value": c.backup.endpoint},
        {"name": "RCLONE_CONFIG_S3_REGION", "value": c.backup.region},
        {"name": "RCLONE_CONFIG_S3_ACCESS_KEY_ID", "valueFrom": from_secret("access-key")},
        {"name": "RCLONE_CONFIG_S3_SECRET_ACCESS_KEY", "valueFrom": from_secret("secret-key")},
        {"name": "RCLONE_CONFIG", "value": "/tmp/rclone.conf"},
    ])
}

/// A CronJob whose init container writes the backup into /backup and whose main container
/// uploads it under `s3:<bucket>/<prefix>/` and prunes old ones.
fn cron_job(
    c: &Config,
    name: &str,
    namespace: &str,
    schedule: &str,
    prefix: &str,
    producer: &Value,
    extra_volumes: &Value,
) -> Value {
    let bucket = &c.backup.bucket;
    let days = c.backup.retention.days;
    let upload = restricted_container(
        "upload",
        &image(c, RCLONE_IMAGE),
        &[
            "sh".into(),
            "-ec".into(),
            format!(
                "stamp=$(date -u +%Y%m%dT%H%M%SZ)\nrclone copy /backup \"s3:{bucket}/{prefix}/$stamp\"\nrclone delete --min-age {days}d \"s3:{bucket}/{prefix}\"\nrclone rmdirs --leave-root \"s3:{bucket}/{prefix}\""
            ),
        ],
        &rclone_env(c),
        &json!([{"name": "backup", "mountPath": "/backup"}, {"name": "tmp", "mountPath": "/tmp"}]),
    );
    let mut volumes = vec![
        json!({"name": "backup", "emptyDir": {"sizeLimit": "20Gi"}}),
        json!({"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}),
    ];
    if let Some(extra) = extra_volumes.as_array() {
        volumes.extend(extra.iter().cloned());
    }
    json!({
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "uyoop-backups", "owner": "platform"}},
        "spec": {
            "schedule": schedule,
            "timeZone": "Etc/UTC",
            "concurrencyPolicy": "Forbid",
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {"spec": {
                "backoffLimit": 2,
                "activeDeadlineSeconds": 7200,
                "template": {
                    "metadata": {"labels": {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "uyoop-backups", "owner": "platform"}},
                    "spec": {
                        "restartPolicy": "OnFailure",
                        "serviceAccountName": name,
                        "automountServiceAccountToken": false,
                        "securityContext": {"runAsNonRoot": true, "runAsUser": 1000, "runAsGroup": 1000, "fsGroup": 1000, "seccompProfile": {"type": "RuntimeDefault"}},
                        "initContainers": [producer.clone()],
                        "containers": [upload],
                        "volumes": volumes,
                    },
                },
            }},
        },
    })
}

/// The PostgreSQL base backup CronJob (`pg_basebackup` from a replica, tar + gzip, WAL streamed).
pub fn postgres_basebackup(c: &Config) -> Value {
    let tls = "/etc/uyoop/pg-tls";
    let producer = restricted_container(
        "pg-basebackup",
        &image(c, POSTGRES_IMAGE),
        &[
            "pg_basebackup".into(),
            "--pgdata=/backup".into(),
            "--format=tar".into(),
            "--gzip".into(),
            "--wal-method=stream".into(),
            "--checkpoint=fast".into(),
            "--no-password".into(),
            "--verbose".into(),
        ],
        &json!([
            {"name": "PGHOST", "value": format!("{}-repl.{}.svc", patroni::SCOPE, ns::POSTGRES)},
            {"name": "PGUSER", "value": "standby"},
            {"name": "PGSSLMODE", "value": "verify-full"},
            {"name": "PGSSLROOTCERT", "value": format!("{tls}/ca.crt")},
            {"name": "PGPASSWORD", "valueFrom": {"secretKeyRef": {"name": format!("standby.{}.credentials.postgresql.acid.zalan.do", patroni::SCOPE), "key": "password"}}},
        ]),
        &json!([{"name": "backup", "mountPath": "/backup"}, {"name": "pg-tls", "mountPath": tls, "readOnly": true}, {"name": "tmp", "mountPath": "/tmp"}]),
    );
    cron_job(
        c,
        "postgres-basebackup",
        ns::POSTGRES,
        &c.backup.schedules.postgres,
        "postgres/base",
        &producer,
        &json!([{"name": "pg-tls", "secret": {"secretName": "uyoop-pg-ca", "defaultMode": 0o440}}]),
    )
}

/// The Vault Raft snapshot CronJob: logs in with the Kubernetes auth role `raft-snapshot`
/// (policy: read `sys/storage/raft/snapshot`) over mTLS, saves, uploads.
pub fn vault_snapshot(c: &Config) -> Value {
    let tls = "/etc/uyoop/vault-tls";
    let producer = restricted_container(
        "raft-snapshot",
        &image(c, OPENBAO_IMAGE),
        &[
            "sh".into(),
            "-ec".into(),
            "BAO_TOKEN=$(bao write -field=token auth/kubernetes/login role=raft-snapshot jwt=@/var/run/secrets/tokens/vault)\nexport BAO_TOKEN\nbao operator raft snapshot save /backup/vault.snap".into(),
        ],
        &json!([
            {"name": "BAO_ADDR", "value": format!("https://vault-active.{}.svc:8200", ns::VAULT)},
            {"name": "BAO_CACERT", "value": format!("{tls}/ca.crt")},
            {"name": "BAO_CLIENT_CERT", "value": format!("{tls}/tls.crt")},
            {"name": "BAO_CLIENT_KEY", "value": format!("{tls}/tls.key")},
            {"name": "HOME", "value": "/tmp"},
        ]),
        &json!([
            {"name": "backup", "mountPath": "/backup"},
            {"name": "client-tls", "mountPath": tls, "readOnly": true},
            {"name": "token", "mountPath": "/var/run/secrets/tokens", "readOnly": true},
            {"name": "tmp", "mountPath": "/tmp"},
        ]),
    );
    cron_job(
        c,
        "vault-snapshot",
        ns::VAULT,
        &c.backup.schedules.vault,
        "vault",
        &producer,
        &json!([
            {"name": "client-tls", "secret": {"secretName": "vault-snapshot-client", "defaultMode": 0o440}},
            {"name": "token", "projected": {"sources": [{"serviceAccountToken": {"path": "vault", "audience": "vault", "expirationSeconds": 600}}]}},
        ]),
    )
}

/// The Velero schedule of the whole cluster.
pub fn velero_schedule(c: &Config) -> Value {
    json!({
        "apiVersion": "velero.io/v1",
        "kind": "Schedule",
        "metadata": {"name": "uyoop-daily", "namespace": "velero"},
        "spec": {
            "schedule": c.backup.schedules.cluster,
            "useOwnerReferencesInBackup": false,
            "template": {
                "includedNamespaces": ["*"],
                "excludedNamespaces": ["kube-system", "velero"],
                "defaultVolumesToFsBackup": true,
                "storageLocation": "default",
                "ttl": format!("{}h0m0s", 24 * c.backup.retention.days),
            },
        },
    })
}

fn service_account(name: &str, namespace: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": namespace}, "automountServiceAccountToken": false})
}

/// Writes `backups/`.
pub fn render(c: &Config, site: &mut Site) -> Result<()> {
    let stream = |docs: &[Value]| crate::render::to_yaml_stream("backups", docs);
    site.write(
        "backups/postgres-basebackup.yaml",
        format!(
            "{HEADER}{}",
            stream(&[
                service_account("postgres-basebackup", ns::POSTGRES),
                postgres_basebackup(c)
            ])?
        ),
    )?;
    site.write(
        "backups/vault-snapshot.yaml",
        format!(
            "{HEADER}{}",
            stream(&[service_account("vault-snapshot", ns::VAULT), vault_snapshot(c)])?
        ),
    )?;
    site.yaml("backups/velero-schedule.yaml", HEADER, &velero_schedule(c))
}
