//! `backups/`: the schedules that keep the site restorable, all to the S3-compatible bucket.
//!
//! - PostgreSQL: WAL is archived continuously by Patroni (`archive_command`, see `patroni/`);
//!   `postgres-basebackup.yaml` takes a `pg_basebackup` from a replica on schedule and uploads it.
//! - Vault: `vault-snapshot.yaml` saves a Raft snapshot on schedule and uploads it.
//! - Cluster: `velero-schedule.yaml`, objects and volumes (file-system backup).
//!
//! Each job uploads with rclone, whose S3 keys are files of the `backup-s3` Secret `apply`
//! makes from `backup.access_key` / `backup.secret_key` (mounted, never environment variables);
//! old backups are pruned after `backup.retention.days`.
//!
//! The jobs meet the admission policies of `policies/` (checked by `uyoop-install policy-check`)
//! and checkov's Kubernetes checks (`installer/.checkov.yaml` holds the one justified skip).

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
/// UID and GID of the backup jobs: above 10000, so that no host account shares them.
pub const BACKUP_UID: u32 = 10001;
/// Where the `backup-s3` Secret (`access-key`, `secret-key`) is mounted in the upload container.
const S3_KEYS_DIR: &str = "/etc/uyoop/backup-s3";

fn restricted_container(name: &str, image: &str, command: &[String], env: &Value, mounts: &Value) -> Value {
    json!({
        "name": name,
        "image": image,
        // Pinned by version tag: pull each run so that a re-pushed tag cannot linger on a node.
        "imagePullPolicy": "Always",
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

/// rclone's S3 remote, but for its keys: the upload script reads them from the mounted
/// `backup-s3` Secret.
fn rclone_env(c: &Config) -> Value {
    json!([
        {"name": "RCLONE_CONFIG_S3_TYPE", "value": "s3"},
        {"name": "RCLONE_CONFIG_S3_PROVIDER", "value": "Other"},
        {"name": "RCLONE_CONFIG_S3_ENDPOINT", "value": c.backup.endpoint},
        {"name": "RCLONE_CONFIG_S3_REGION", "value": c.backup.region},
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
                "RCLONE_CONFIG_S3_ACCESS_KEY_ID=$(cat {S3_KEYS_DIR}/access-key)\nRCLONE_CONFIG_S3_SECRET_ACCESS_KEY=$(cat {S3_KEYS_DIR}/secret-key)\nexport RCLONE_CONFIG_S3_ACCESS_KEY_ID RCLONE_CONFIG_S3_SECRET_ACCESS_KEY\nstamp=$(date -u +%Y%m%dT%H%M%SZ)\nrclone copy /backup \"s3:{bucket}/{prefix}/$stamp\"\nrclone delete --min-age {days}d \"s3:{bucket}/{prefix}\"\nrclone rmdirs --leave-root \"s3:{bucket}/{prefix}\""
            ),
        ],
        &rclone_env(c),
        &json!([
            {"name": "backup", "mountPath": "/backup"},
            {"name": "tmp", "mountPath": "/tmp"},
            {"name": "backup-s3", "mountPath": S3_KEYS_DIR, "readOnly": true},
        ]),
    );
    let mut volumes = vec![
        json!({"name": "backup", "emptyDir": {"sizeLimit": "20Gi"}}),
        json!({"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}),
        json!({"name": "backup-s3", "secret": {"secretName": "backup-s3", "defaultMode": 0o440}}),
    ];
    if let Some(extra) = extra_volumes.as_array() {
        volumes.extend(extra.iter().cloned());
    }
    // The CronJob, the Jobs it creates and their pods carry the labels of the required-labels
    // policy (Gatekeeper reviews each of the three).
    let labels = json!({"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "uyoop-backups", "owner": "platform"});
    json!({
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "schedule": schedule,
            "timeZone": "Etc/UTC",
            "concurrencyPolicy": "Forbid",
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {"metadata": {"labels": labels}, "spec": {
                "backoffLimit": 2,
                "activeDeadlineSeconds": 7200,
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "restartPolicy": "OnFailure",
                        "serviceAccountName": name,
                        "automountServiceAccountToken": false,
                        "securityContext": {"runAsNonRoot": true, "runAsUser": BACKUP_UID, "runAsGroup": BACKUP_UID, "fsGroup": BACKUP_UID, "seccompProfile": {"type": "RuntimeDefault"}},
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
    let standby = "/etc/uyoop/pg-standby";
    // The standby password is a mounted file, written into a private passfile (`\` and `:`
    // escaped as libpq's passfile format wants), never an environment variable.
    let script = format!(
        r#"umask 077
pw=$(sed -e 's/\\/\\\\/g' -e 's/:/\\:/g' {standby}/password)
printf '*:*:*:standby:%s\n' "$pw" > /tmp/pgpass
export PGPASSFILE=/tmp/pgpass
exec pg_basebackup --pgdata=/backup --format=tar --gzip --wal-method=stream --checkpoint=fast --no-password --verbose"#
    );
    let producer = restricted_container(
        "pg-basebackup",
        &image(c, POSTGRES_IMAGE),
        &["sh".into(), "-ec".into(), script],
        &json!([
            {"name": "PGHOST", "value": format!("{}-repl.{}.svc", patroni::SCOPE, ns::POSTGRES)},
            {"name": "PGUSER", "value": "standby"},
            {"name": "PGSSLMODE", "value": "verify-full"},
            {"name": "PGSSLROOTCERT", "value": format!("{tls}/ca.crt")},
        ]),
        &json!([
            {"name": "backup", "mountPath": "/backup"},
            {"name": "pg-tls", "mountPath": tls, "readOnly": true},
            {"name": "pg-standby", "mountPath": standby, "readOnly": true},
            {"name": "tmp", "mountPath": "/tmp"},
        ]),
    );
    cron_job(
        c,
        "postgres-basebackup",
        ns::POSTGRES,
        &c.backup.schedules.postgres,
        "postgres/base",
        &producer,
        &json!([
            {"name": "pg-tls", "secret": {"secretName": "uyoop-pg-ca", "defaultMode": 0o440}},
            {"name": "pg-standby", "secret": {
                "secretName": format!("standby.{}.credentials.postgresql.acid.zalan.do", patroni::SCOPE),
                "defaultMode": 0o440,
                "items": [{"key": "password", "path": "password"}],
            }},
        ]),
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
