//! `kubernetes/`: what the cluster runs.
//!
//! - `manifests/`: what K3s auto-deploys (the Ansible role `k3s_manifests` copies every
//!   `uyoop-*.yaml` of it to each server's manifests directory):
//!   - `uyoop-namespaces.yaml`: every namespace with its Pod Security level;
//!   - `uyoop-helmchart-<name>.yaml`: K3s `HelmChart` resources (helm.cattle.io/v1), pinned chart
//!     versions, generated values: Calico, ingress-nginx, cert-manager, Vault (OpenBao), the
//!     PostgreSQL operator (Patroni), Redis, kube-prometheus-stack, Loki, Promtail, Velero,
//!     Gatekeeper;
//!   - `uyoop-cluster-issuer.yaml`: the issuer of the public certificate;
//!   - `uyoop-postgres-cluster.yaml`: the 3-member Patroni cluster.
//! - `uyoop-cal/values.yaml`: the site's values for the app's chart (`helm/uyoop-cal`).

use serde_json::{Value, json};

use crate::config::{Config, Tls};
use crate::error::Result;
use crate::render::pki::ns;
use crate::render::{HEADER, Site, patroni, to_yaml, to_yaml_stream, vault};

/// A third-party chart the site installs, pinned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chart {
    /// Name of the HelmChart resource and of the release.
    pub name: &'static str,
    /// Chart name in its repository.
    pub chart: &'static str,
    /// Upstream repository URL.
    pub repo: &'static str,
    /// Pinned chart version.
    pub version: &'static str,
    /// Namespace the release goes to.
    pub namespace: &'static str,
    /// Installed before the node network is up (host network install job).
    pub bootstrap: bool,
}

/// Every third-party chart, in install order. Bump versions here only.
pub const CHARTS: &[Chart] = &[
    Chart {
        name: "calico",
        chart: "tigera-operator",
        repo: "https://docs.tigera.io/calico/charts",
        version: "v3.29.3",
        namespace: "tigera-operator",
        bootstrap: true,
    },
    Chart {
        name: "cert-manager",
        chart: "cert-manager",
        repo: "https://charts.jetstack.io",
        version: "v1.17.2",
        namespace: "cert-manager",
        bootstrap: false,
    },
    Chart {
        name: "ingress-nginx",
        chart: "ingress-nginx",
        repo: "https://kubernetes.github.io/ingress-nginx",
        version: "4.12.2",
        namespace: "ingress-nginx",
        bootstrap: false,
    },
    Chart {
        name: "gatekeeper",
        chart: "gatekeeper",
        repo: "https://open-policy-agent.github.io/gatekeeper/charts",
        version: "3.19.1",
        namespace: "gatekeeper-system",
        bootstrap: false,
    },
    Chart {
        name: "kube-prometheus-stack",
        chart: "kube-prometheus-stack",
        repo: "https://prometheus-community.github.io/helm-charts",
        version: "72.6.2",
        namespace: "monitoring",
        bootstrap: false,
    },
    Chart {
        name: "loki",
        chart: "loki",
        repo: "https://grafana.github.io/helm-charts",
        version: "6.30.1",
        namespace: "logging",
        bootstrap: false,
    },
    Chart {
        name: "promtail",
        chart: "promtail",
        repo: "https://grafana.github.io/helm-charts",
        version: "6.16.6",
        namespace: "logging",
        bootstrap: false,
    },
    Chart {
        name: "vault",
        chart: "openbao",
        repo: "https://openbao.github.io/openbao-helm",
        version: "0.16.1",
        namespace: ns::VAULT,
        bootstrap: false,
    },
    Chart {
        name: "postgres-operator",
        chart: "postgres-operator",
        repo: "https://opensource.zalando.com/postgres-operator/charts/postgres-operator",
        version: "1.14.0",
        namespace: ns::POSTGRES,
        bootstrap: false,
    },
    Chart {
        name: "redis",
        chart: "redis",
        repo: "https://charts.bitnami.com/bitnami",
        version: "21.1.11",
        namespace: ns::REDIS,
        bootstrap: false,
    },
    Chart {
        name: "velero",
        chart: "velero",
        repo: "https://vmware-tanzu.github.io/helm-charts",
        version: "10.0.4",
        namespace: "velero",
        bootstrap: false,
    },
];

/// The Spilo image (PostgreSQL + Patroni) the operator runs, under `ghcr.io`.
pub const SPILO_IMAGE: &str = "zalando/spilo-17:4.0-p2";

/// An image reference as the site pulls it: through the mirror when `registry.mirror`
/// (`<registry>/<upstream reference>`, as the K3s registry rewrite maps it), else upstream.
pub fn image(c: &Config, upstream: &str) -> String {
    if c.registry.mirror {
        format!("{}/{upstream}", c.registry.url.trim_end_matches('/'))
    } else {
        upstream.to_owned()
    }
}

/// Upstream image prefixes of the third-party workloads in namespaces the allowed-images policy
/// covers (Vault, PostgreSQL, Redis and the backup jobs), pulled from upstream when the site has
/// no mirror. The policy compares repository paths (it appends `/` to a prefix that lacks one),
/// so each prefix is a registry path ending with `/`: `docker.io/library/` holds the official
/// `postgres` image of the base backup job, `velero/` the AWS plugin of Velero (Docker Hub).
pub const UPSTREAM_IMAGE_PREFIXES: &[&str] = &[
    "quay.io/openbao/",
    "ghcr.io/zalando/",
    "docker.io/bitnami/",
    "docker.io/library/",
    "docker.io/rclone/",
    "velero/",
];

/// Image prefixes the allowed-images constraint accepts, each ending with `/`: the site's
/// registries, plus the upstream prefixes of the third-party workloads when images are not
/// mirrored.
pub fn allowed_registries(c: &Config) -> Vec<String> {
    let mut out: Vec<String> = c
        .registry
        .allowed_prefixes()
        .into_iter()
        .map(|p| format!("{}/", p.trim_end_matches('/')))
        .collect();
    if !c.registry.mirror {
        out.extend(UPSTREAM_IMAGE_PREFIXES.iter().map(|p| (*p).to_owned()));
    }
    out
}

/// Registry host (and path) serving an upstream registry's images: the mirror's
/// `<registry>/<upstream>` when the site mirrors, else the upstream itself.
pub fn registry_for(c: &Config, upstream: &str) -> String {
    if c.registry.mirror {
        format!("{}/{upstream}", c.registry.url.trim_end_matches('/'))
    } else {
        upstream.to_owned()
    }
}

/// Labels the required-labels policy asks of every workload in the covered namespaces.
fn policy_labels() -> Value {
    json!({"app.kubernetes.io/part-of": "uyoop", "owner": "platform"})
}

/// Name of the cert-manager issuer of the public certificate.
pub fn issuer_name(c: &Config) -> &'static str {
    match c.tls {
        Tls::Acme { .. } => "letsencrypt",
        Tls::Internal => "uyoop-ca",
    }
}

/// The `HelmChart` resource of a chart with its values.
pub fn helm_chart(c: &Config, chart: &Chart, values: &Value) -> Result<Value> {
    let values_text = to_yaml(chart.name, values)?;
    let mut spec = json!({
        "version": chart.version,
        "targetNamespace": chart.namespace,
        "createNamespace": false,
        "bootstrap": chart.bootstrap,
        "failurePolicy": "abort",
        "valuesContent": values_text,
    });
    if c.registry.mirror {
        // Air-gapped or mirrored: charts are pushed to the registry as OCI artifacts.
        spec["chart"] = json!(format!(
            "oci://{}/charts/{}",
            c.registry.url.trim_end_matches('/'),
            chart.chart
        ));
    } else {
        spec["chart"] = json!(chart.chart);
        spec["repo"] = json!(chart.repo);
    }
    Ok(json!({
        "apiVersion": "helm.cattle.io/v1",
        "kind": "HelmChart",
        "metadata": {
            "name": chart.name,
            "namespace": "kube-system",
            "labels": {"app.kubernetes.io/managed-by": "uyoop-install", "uyoop.io/site": c.site},
        },
        "spec": spec,
    }))
}

/// Namespaces with their Pod Security Standards level: `restricted` wherever the workloads
/// allow it; `privileged` only for node agents (CNI, log shipping, volume backup).
pub fn namespaces(c: &Config) -> Vec<Value> {
    let levels = [
        (ns::APP, "restricted"),
        (ns::VAULT, "restricted"),
        (ns::POSTGRES, "baseline"),
        (ns::REDIS, "restricted"),
        ("cert-manager", "restricted"),
        ("ingress-nginx", "baseline"),
        ("gatekeeper-system", "restricted"),
        ("monitoring", "privileged"),
        ("logging", "privileged"),
        ("tigera-operator", "privileged"),
        ("velero", "privileged"),
    ];
    levels
        .iter()
        .map(|(name, level)| {
            json!({
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {
                    "name": name,
                    "labels": {
                        "pod-security.kubernetes.io/enforce": level,
                        "pod-security.kubernetes.io/audit": "restricted",
                        "pod-security.kubernetes.io/warn": "restricted",
                        "uyoop.io/site": c.site,
                    },
                },
            })
        })
        .collect()
}

fn ns_peer(namespace: &str, pod_labels: &Value) -> Value {
    json!({
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
        "podSelector": {"matchLabels": pod_labels},
    })
}

/// Values of each third-party chart.
pub fn chart_values(c: &Config, name: &str) -> Result<Value> {
    let domain = &c.domain;
    let days = c.backup.retention.days;
    Ok(match name {
        "calico" => json!({
            "installation": {
                "enabled": true,
                "kubernetesProvider": "",
                "cni": {"type": "Calico"},
                "calicoNetwork": {
                    "bgp": "Disabled",
                    "ipPools": [{"cidr": c.network.pods, "encapsulation": "VXLAN", "natOutgoing": "Enabled", "blockSize": 26, "nodeSelector": "all()"}],
                },
            },
            "apiServer": {"enabled": false},
        }),
        "cert-manager" => json!({
            "crds": {"enabled": true, "keep": true},
            "replicaCount": 2,
            "podDisruptionBudget": {"enabled": true, "minAvailable": 1},
            "prometheus": {"enabled": true, "servicemonitor": {"enabled": true, "labels": {"release": "kube-prometheus-stack"}}},
        }),
        "ingress-nginx" => json!({
            "controller": {
                "kind": "DaemonSet",
                "hostPort": {"enabled": true},
                "service": {"type": "ClusterIP"},
                "ingressClassResource": {"name": "nginx", "default": true},
                "allowSnippetAnnotations": false,
                "config": {
                    "ssl-protocols": "TLSv1.2 TLSv1.3",
                    "hsts": "true",
                    "hsts-max-age": "31536000",
                    "server-tokens": "false",
                    "use-forwarded-headers": "false",
                    "annotations-risk-level": "Critical",
                },
                "metrics": {"enabled": true, "serviceMonitor": {"enabled": true, "additionalLabels": {"release": "kube-prometheus-stack"}}},
                "admissionWebhooks": {"enabled": true},
            },
        }),
        "gatekeeper" => json!({
            "replicas": 3,
            "auditInterval": 60,
            "constraintViolationsLimit": 100,
            "emitAdmissionEvents": true,
            "emitAuditEvents": true,
            "podDisruptionBudget": {"controllerManager": {"minAvailable": 1}},
            "exemptNamespaces": ["kube-system", "gatekeeper-system", "tigera-operator", "calico-system"],
        }),
        "kube-prometheus-stack" => json!({
            "prometheus": {
                "prometheusSpec": {
                    "retention": "15d",
                    "replicas": 2,
                    "ruleSelectorNilUsesHelmValues": false,
                    "serviceMonitorSelectorNilUsesHelmValues": false,
                    "podMonitorSelectorNilUsesHelmValues": false,
                    "storageSpec": {"volumeClaimTemplate": {"spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "50Gi"}}}}},
                },
            },
            "alertmanager": {
                "alertmanagerSpec": {
                    "replicas": 3,
                    // `apply` writes it from kubernetes/alertmanager/alertmanager.yaml; the
                    // notifier secrets are files of the second Secret, mounted by name.
                    "configSecret": "alertmanager-uyoop",
                    "secrets": ["alertmanager-uyoop-notifiers"],
                },
            },
            "grafana": {
                "admin": {"existingSecret": "grafana-admin", "userKey": "admin-user", "passwordKey": "admin-password"},
                "ingress": {
                    "enabled": true,
                    "ingressClassName": "nginx",
                    "hosts": [format!("grafana.{domain}")],
                    "annotations": {"cert-manager.io/cluster-issuer": issuer_name(c)},
                    "tls": [{"secretName": "grafana-tls", "hosts": [format!("grafana.{domain}")]}],
                },
                "sidecar": {
                    "dashboards": {"enabled": true, "label": "grafana_dashboard", "searchNamespace": "ALL"},
                    "datasources": {"enabled": true},
                },
                "additionalDataSources": [{
                    "name": "Loki",
                    "uid": "loki",
                    "type": "loki",
                    "url": "http://loki-gateway.logging.svc",
                    "access": "proxy",
                }],
            },
        }),
        "loki" => json!({
            "deploymentMode": "SingleBinary",
            "loki": {
                "auth_enabled": false,
                "commonConfig": {"replication_factor": 1},
                "storage": {"type": "filesystem"},
                "schemaConfig": {"configs": [{"from": "2024-01-01", "store": "tsdb", "object_store": "filesystem", "schema": "v13", "index": {"prefix": "index_", "period": "24h"}}]},
                "limits_config": {"retention_period": format!("{}h", 24 * days.max(7))},
                "compactor": {"retention_enabled": true, "delete_request_store": "filesystem"},
            },
            "singleBinary": {"replicas": 1, "persistence": {"enabled": true, "size": "50Gi"}},
            "read": {"replicas": 0},
            "write": {"replicas": 0},
            "backend": {"replicas": 0},
            "chunksCache": {"enabled": false},
            "resultsCache": {"enabled": false},
            "monitoring": {"serviceMonitor": {"enabled": true, "labels": {"release": "kube-prometheus-stack"}}},
        }),
        "promtail" => json!({
            "config": {"clients": [{"url": "http://loki-gateway.logging.svc/loki/api/v1/push"}]},
            "serviceMonitor": {"enabled": true, "labels": {"release": "kube-prometheus-stack"}},
        }),
        "vault" => json!({
            "global": {"tlsDisable": false},
            // Pods carry the labels the required-labels policy asks for.
            "injector": {"enabled": false},
            "ui": {"enabled": true},
            "server": {
                "image": {"registry": registry_for(c, "quay.io"), "repository": "openbao/openbao"},
                "extraLabels": policy_labels(),
                "extraEnvironmentVars": {
                    "BAO_CACERT": format!("{}/ca.crt", vault::POD_TLS_DIR),
                    // The in-pod CLI and the exec probes authenticate with the node certificate.
                    "BAO_CLIENT_CERT": format!("{}/tls.crt", vault::POD_TLS_DIR),
                    "BAO_CLIENT_KEY": format!("{}/tls.key", vault::POD_TLS_DIR),
                    "BAO_ADDR": "https://127.0.0.1:8200",
                },
                "volumes": [{"name": "vault-tls", "secret": {"secretName": "vault-tls", "defaultMode": 0o440}}],
                "volumeMounts": [{"name": "vault-tls", "mountPath": vault::POD_TLS_DIR, "readOnly": true}],
                "dataStorage": {"enabled": true, "size": format!("{}Gi", c.vault.storage_gb)},
                "auditStorage": {"enabled": true, "size": "10Gi"},
                "standalone": {"enabled": false},
                "ha": {
                    "enabled": true,
                    "replicas": 3,
                    "raft": {"enabled": true, "setNodeId": true, "config": vault::in_cluster_hcl(c)?},
                },
                "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{
                    "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "openbao", "component": "server"}},
                    "topologyKey": "kubernetes.io/hostname",
                }]}},
            },
            "serverTelemetry": {
                "serviceMonitor": {
                    "enabled": true,
                    "selectors": {"release": "kube-prometheus-stack"},
                    "tlsConfig": {
                        "ca": {"secret": {"name": "vault-tls", "key": "ca.crt"}},
                        "cert": {"secret": {"name": "vault-metrics-client", "key": "tls.crt"}},
                        "keySecret": {"name": "vault-metrics-client", "key": "tls.key"},
                    },
                },
            },
        }),
        "postgres-operator" => json!({
            "image": {"registry": registry_for(c, "ghcr.io")},
            "configKubernetes": {
                "enable_pod_antiaffinity": true,
                "pod_management_policy": "parallel",
                "spilo_privileged": false,
                // The cluster's labels flow to its pods and Services (required-labels policy).
                "inherited_labels": ["app.kubernetes.io/name", "app.kubernetes.io/part-of", "owner"],
            },
            "configGeneral": {
                "enable_crd_registration": true,
                "docker_image": format!("{}/{SPILO_IMAGE}", registry_for(c, "ghcr.io")),
            },
        }),
        "redis" => json!({
            "global": {"imageRegistry": registry_for(c, "docker.io"), "security": {"allowInsecureImages": c.registry.mirror}},
            "commonLabels": policy_labels(),
            "architecture": "replication",
            "auth": {"enabled": true, "existingSecret": "redis-auth", "existingSecretPasswordKey": "password"},
            "replica": {"replicaCount": 3, "persistence": {"size": "8Gi"}},
            "sentinel": {"enabled": true, "quorum": 2},
            "tls": {
                "enabled": true,
                "authClients": false,
                "existingSecret": "redis-tls",
                "certFilename": "tls.crt",
                "certKeyFilename": "tls.key",
                "certCAFilename": "ca.crt",
            },
            "metrics": {"enabled": true, "serviceMonitor": {"enabled": true, "additionalLabels": {"release": "kube-prometheus-stack"}}},
            "networkPolicy": {"enabled": true, "allowExternal": false, "extraIngress": [{"from": [ns_peer(ns::APP, &json!({"app.kubernetes.io/name": "uyoop-cal"}))]}]},
        }),
        "velero" => json!({
            "initContainers": [{
                "name": "velero-plugin-for-aws",
                "image": image(c, "velero/velero-plugin-for-aws:v1.12.1"),
                "volumeMounts": [{"mountPath": "/target", "name": "plugins"}],
            }],
            "deployNodeAgent": true,
            "credentials": {"useSecret": true, "existingSecret": "velero-s3"},
            "configuration": {
                "defaultVolumesToFsBackup": true,
                "backupStorageLocation": [{
                    "name": "default",
                    "provider": "aws",
                    "bucket": c.backup.bucket,
                    "prefix": "velero",
                    "default": true,
                    "config": {"region": c.backup.region, "s3ForcePathStyle": "true", "s3Url": c.backup.endpoint},
                }],
                "volumeSnapshotLocation": [],
            },
            "snapshotsEnabled": false,
            "metrics": {"enabled": true, "serviceMonitor": {"enabled": true, "additionalLabels": {"release": "kube-prometheus-stack"}}},
        }),
        _ => json!({}),
    })
}

/// The ClusterIssuer of the public certificate.
pub fn cluster_issuer(c: &Config) -> Value {
    match &c.tls {
        Tls::Acme { email, server } => json!({
            "apiVersion": "cert-manager.io/v1",
            "kind": "ClusterIssuer",
            "metadata": {"name": issuer_name(c)},
            "spec": {"acme": {
                "email": email,
                "server": server.clone().unwrap_or_else(|| "https://acme-v02.api.letsencrypt.org/directory".into()),
                "privateKeySecretRef": {"name": "letsencrypt-account-key"},
                "solvers": [{"http01": {"ingress": {"ingressClassName": "nginx"}}}],
            }},
        }),
        // The site's intermediate CA (pki/ca/intermediate.*), loaded by `apply` into this Secret.
        Tls::Internal => json!({
            "apiVersion": "cert-manager.io/v1",
            "kind": "ClusterIssuer",
            "metadata": {"name": issuer_name(c)},
            "spec": {"ca": {"secretName": "uyoop-intermediate-ca"}},
        }),
    }
}

/// The Patroni cluster, as the PostgreSQL operator's resource.
pub fn postgres_cluster(c: &Config) -> Value {
    let dcs = patroni::dcs(c);
    json!({
        "apiVersion": "acid.zalan.do/v1",
        "kind": "postgresql",
        "metadata": {
            "name": patroni::SCOPE,
            "namespace": ns::POSTGRES,
            "labels": {"uyoop.io/site": c.site, "app.kubernetes.io/name": patroni::SCOPE, "app.kubernetes.io/part-of": "uyoop", "owner": "platform"},
        },
        "spec": {
            "teamId": "uyoop",
            "numberOfInstances": patroni::MEMBERS,
            "postgresql": {"version": "16", "parameters": dcs["postgresql"]["parameters"].clone()},
            "volume": {"size": format!("{}Gi", c.postgres.storage_gb)},
            "users": {"uyoop": ["login"]},
            "databases": {"uyoop": "uyoop"},
            "patroni": {
                "ttl": dcs["ttl"].clone(),
                "loop_wait": dcs["loop_wait"].clone(),
                "retry_timeout": dcs["retry_timeout"].clone(),
                "maximum_lag_on_failover": dcs["maximum_lag_on_failover"].clone(),
                "synchronous_mode": c.postgres.synchronous,
                "synchronous_mode_strict": false,
                "synchronous_node_count": 1,
                "failsafe_mode": true,
                "pg_hba": patroni::pg_hba(),
            },
            "tls": {"secretName": "uyoop-pg-tls", "caSecretName": "uyoop-pg-ca", "caFile": "ca.crt"},
            "enableConnectionPooler": false,
            "resources": {
                "requests": {"cpu": "500m", "memory": "1Gi"},
                "limits": {"cpu": "2", "memory": "4Gi"},
            },
        },
    })
}

/// The site's values for the app's chart (`helm/uyoop-cal`); only what differs from the
/// chart's defaults.
pub fn app_values(c: &Config) -> Value {
    let (registry_host, project) = match c.registry.url.split_once('/') {
        Some((host, path)) => (host.to_owned(), format!("{}/", path.trim_matches('/'))),
        None => (c.registry.url.clone(), String::new()),
    };
    let version = c
        .app
        .version
        .clone()
        .unwrap_or_else(|| env!("CARGO_PKG_VERSION").to_owned());
    let mut extra_env = serde_json::Map::new();
    let mut secret_env = serde_json::Map::new();
    if let Some(smtp) = &c.notifications.smtp {
        extra_env.insert("UYOOP_SMTP__HOST".into(), json!(smtp.host));
        extra_env.insert("UYOOP_SMTP__PORT".into(), json!(smtp.port.to_string()));
        extra_env.insert("UYOOP_SMTP__FROM".into(), json!(smtp.from));
        if let Some(u) = &smtp.username {
            extra_env.insert("UYOOP_SMTP__USERNAME".into(), json!(u));
        }
        if smtp.password.is_some() {
            secret_env.insert("UYOOP_SMTP__PASSWORD".into(), json!("smtp-password"));
        }
    }
    if c.notifications.slack_webhook.is_some() {
        secret_env.insert(
            "UYOOP_NOTIFY__SLACK_WEBHOOK_URL".into(),
            json!("slack-webhook-url"),
        );
    }
    if c.notifications.teams_webhook.is_some() {
        secret_env.insert(
            "UYOOP_NOTIFY__TEAMS_WEBHOOK_URL".into(),
            json!("teams-webhook-url"),
        );
    }
    let smtp_port = c.notifications.smtp.as_ref().map(|s| s.port);
    let mut image =
        json!({"registry": registry_host, "repository": format!("{project}uyoop-cal"), "tag": version});
    if let Some(digest) = &c.app.digest {
        image["digest"] = json!(digest);
    }
    json!({
        "commonLabels": {"uyoop.io/site": c.site},
        "image": image,
        "imagePullSecrets": if c.registry.password.is_some() { json!([{"name": "registry-pull"}]) } else { json!([]) },
        // 10 replicas at most x 8 = 80 connections, well under Patroni's max_connections.
        "config": {"publicUrl": format!("https://{}", c.domain), "databaseMaxConnections": 8, "extraEnv": extra_env},
        "secrets": {"existingSecret": "uyoop-secrets", "extraEnv": secret_env},
        "vault": {
            "enabled": true,
            "addr": format!("https://vault-active.{}.svc:8200", ns::VAULT),
            "caSecret": {"name": "vault-ca-cert", "key": "ca.crt"},
            "clientCertSecret": "uyoop-cal-vault-client",
        },
        "database": {"tlsSecret": "uyoop-cal-db-tls"},
        "replicaCount": c.app.replicas,
        "autoscaling": {"enabled": true, "minReplicas": c.app.replicas, "maxReplicas": 10},
        "ingress": {
            "enabled": true,
            "host": c.domain,
            "certManager": {"enabled": true, "issuerKind": "ClusterIssuer", "issuerName": issuer_name(c)},
        },
        "networkPolicy": {
            "egress": {
                "postgresql": {"port": 5432, "to": [ns_peer(ns::POSTGRES, &json!({"cluster-name": patroni::SCOPE}))]},
                "redis": {"port": 6379, "to": [ns_peer(ns::REDIS, &json!({"app.kubernetes.io/name": "redis"}))]},
                "vault": {"port": 8200, "to": [ns_peer(ns::VAULT, &json!({"app.kubernetes.io/name": "openbao"}))]},
                "smtp": {"enabled": smtp_port.is_some(), "ports": [smtp_port.unwrap_or(587)], "to": []},
            },
        },
        "serviceMonitor": {"enabled": true, "labels": {"release": "kube-prometheus-stack"}},
    })
}

/// Writes `kubernetes/`.
pub fn render(c: &Config, site: &mut Site) -> Result<()> {
    let dir = "kubernetes/manifests";
    site.write(
        &format!("{dir}/uyoop-namespaces.yaml"),
        format!("{HEADER}{}", to_yaml_stream("namespaces", &namespaces(c))?),
    )?;
    for chart in CHARTS {
        let values = chart_values(c, chart.name)?;
        site.yaml(
            &format!("{dir}/uyoop-helmchart-{}.yaml", chart.name),
            HEADER,
            &helm_chart(c, chart, &values)?,
        )?;
    }
    site.yaml(
        &format!("{dir}/uyoop-cluster-issuer.yaml"),
        HEADER,
        &cluster_issuer(c),
    )?;
    site.yaml(
        &format!("{dir}/uyoop-postgres-cluster.yaml"),
        HEADER,
        &postgres_cluster(c),
    )?;
    site.yaml("kubernetes/uyoop-cal/values.yaml", HEADER, &app_values(c))
}
