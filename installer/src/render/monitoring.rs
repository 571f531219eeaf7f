//! Monitoring from the repository's `grafana/`, deployed with kube-prometheus-stack:
//! - `kubernetes/manifests/uyoop-prometheus-rules.yaml`: the alert rule groups of
//!   `grafana/alerts/*.rules.yaml` as a `PrometheusRule`;
//! - `kubernetes/manifests/uyoop-grafana-dashboards.yaml`: each `grafana/dashboards/*.json` as a
//!   ConfigMap Grafana's sidecar loads;
//! - `kubernetes/alertmanager/alertmanager.yaml`: `grafana/alertmanager/alertmanager.yml` with the
//!   site's SMTP relay and alert addresses, for the `alertmanager-uyoop` Secret `apply` creates
//!   (its secrets stay files of the `alertmanager-uyoop-notifiers` Secret).
//!
//! A folder that is still empty in the repository renders nothing.

use serde_json::{Value, json};

use crate::assets;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::render::{HEADER, Site, to_yaml_stream};

/// Namespace of kube-prometheus-stack.
pub const NAMESPACE: &str = "monitoring";

fn parse_yaml(what: &str, bytes: &[u8]) -> Result<Value> {
    serde_norway::from_slice(bytes).map_err(|e| Error::Serialize {
        what: what.to_owned(),
        message: e.to_string(),
    })
}

/// The PrometheusRule holding every rule group of `grafana/alerts/`.
pub fn prometheus_rule(c: &Config) -> Result<Option<Value>> {
    let mut groups = Vec::new();
    for (path, bytes) in assets::files(&assets::GRAFANA) {
        let Some(name) = path.strip_prefix("alerts/") else {
            continue;
        };
        if name.contains('/') || !(name.ends_with(".rules.yaml") || name.ends_with(".rules.yml")) {
            continue;
        }
        let doc = parse_yaml(&format!("grafana/{path}"), bytes)?;
        groups.extend(
            doc.get("groups")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
        );
    }
    if groups.is_empty() {
        return Ok(None);
    }
    Ok(Some(json!({
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": "uyoop-cal",
            "namespace": NAMESPACE,
            "labels": {"release": "kube-prometheus-stack", "app.kubernetes.io/part-of": "uyoop", "uyoop.io/site": c.site},
        },
        "spec": {"groups": groups},
    })))
}

/// One ConfigMap per dashboard, labelled for Grafana's sidecar.
pub fn dashboards(c: &Config) -> Vec<Value> {
    assets::files(&assets::GRAFANA)
        .into_iter()
        .filter_map(|(path, bytes)| {
            let name = path.strip_prefix("dashboards/")?.strip_suffix(".json")?;
            Some(json!({
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": format!("grafana-dashboard-{name}"),
                    "namespace": NAMESPACE,
                    "labels": {"grafana_dashboard": "1", "app.kubernetes.io/part-of": "uyoop", "uyoop.io/site": c.site},
                },
                "data": {format!("{name}.json"): String::from_utf8_lossy(bytes)},
            }))
        })
        .collect()
}

/// The Alertmanager configuration with the site's SMTP relay and alert addresses.
pub fn alertmanager(c: &Config) -> Result<Option<Value>> {
    let Some(file) = assets::GRAFANA.get_file("alertmanager/alertmanager.yml") else {
        return Ok(None);
    };
    let mut doc = parse_yaml("grafana/alertmanager/alertmanager.yml", file.contents())?;
    if let (Some(smtp), Some(global)) = (
        &c.notifications.smtp,
        doc.get_mut("global").and_then(Value::as_object_mut),
    ) {
        global.insert(
            "smtp_smarthost".into(),
            json!(format!("{}:{}", smtp.host, smtp.port)),
        );
        global.insert("smtp_from".into(), json!(smtp.from));
        global.insert("smtp_hello".into(), json!(c.domain));
        match &smtp.username {
            Some(u) => global.insert("smtp_auth_username".into(), json!(u)),
            None => global.remove("smtp_auth_username"),
        };
        if smtp.password.is_none() {
            global.remove("smtp_auth_password_file");
        }
        // Port 465 is implicit TLS, which Alertmanager speaks without STARTTLS.
        global.insert("smtp_require_tls".into(), json!(smtp.port != 465));
    }
    for receiver in doc
        .get_mut("receivers")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        let to = match receiver.get("name").and_then(Value::as_str) {
            Some("oncall-page") => c.notifications.oncall_email.clone(),
            Some("team-email") => c.notifications.team_email.clone(),
            _ => None,
        };
        let Some(to) = to else { continue };
        for email in receiver
            .get_mut("email_configs")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            email["to"] = json!(to);
        }
    }
    Ok(Some(doc))
}

/// Writes the monitoring manifests and the Alertmanager configuration.
pub fn render(c: &Config, site: &mut Site) -> Result<()> {
    if let Some(rule) = prometheus_rule(c)? {
        site.yaml("kubernetes/manifests/uyoop-prometheus-rules.yaml", HEADER, &rule)?;
    }
    let boards = dashboards(c);
    if !boards.is_empty() {
        site.write(
            "kubernetes/manifests/uyoop-grafana-dashboards.yaml",
            format!("{HEADER}{}", to_yaml_stream("dashboards", &boards)?),
        )?;
    }
    if let Some(am) = alertmanager(c)? {
        site.yaml(
            "kubernetes/alertmanager/alertmanager.yaml",
            "# Rendered from grafana/alertmanager/alertmanager.yml with the site's relay and addresses.\n# `apply` stores it as the Secret monitoring/alertmanager-uyoop (key alertmanager.yaml).\n",
            &am,
        )?;
    }
    Ok(())
}
