//! Prometheus metrics, served on their own listener (never the public port).
//!
//! HTTP metrics are labelled by the *matched route* (`/api/events/{id}`), never the raw URL, so the
//! label set stays bounded. Each app instance owns its registry (tests run several in one process).

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

/// Latency buckets, in seconds: fine below the 500 ms objective, coarse above.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// DORA duration buckets, in seconds: 5 min .. 30 days.
const DORA_BUCKETS: &[f64] = &[
    300.0, 900.0, 3600.0, 14400.0, 86400.0, 259200.0, 604800.0, 2592000.0,
];

/// Every metric of the app.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    /// `http_requests_total{method,route,status}`.
    pub http_requests: IntCounterVec,
    /// `http_request_duration_seconds{method,route}`.
    pub http_duration: HistogramVec,
    /// `http_requests_in_flight`.
    pub http_in_flight: IntGauge,
    /// `events_created_total{type}`.
    pub events_created: IntCounterVec,
    /// `deployments_total{environment,status}`.
    pub deployments: IntCounterVec,
    /// `git_actions_executed_total{status}`.
    pub git_actions_executed: IntCounterVec,
    /// `background_jobs_total{kind,outcome}`.
    pub jobs: IntCounterVec,
    /// `background_jobs_pending`.
    pub jobs_pending: IntGauge,
    /// `rate_limited_total{policy}`.
    pub rate_limited: IntCounterVec,
    /// `auth_logins_total{outcome}`.
    pub logins: IntCounterVec,
    /// `webhook_deliveries_total{outcome}`.
    pub webhook_deliveries: IntCounterVec,
    /// `dora_lead_time_seconds{environment}`.
    pub dora_lead_time: HistogramVec,
    /// `dora_time_to_restore_seconds{environment}`.
    pub dora_time_to_restore: HistogramVec,
}

impl Metrics {
    /// Registers every metric in a fresh registry.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let counter = |name: &str, help: &str, labels: &[&str]| -> Result<IntCounterVec, prometheus::Error> {
            let c = IntCounterVec::new(Opts::new(name, help), labels)?;
            registry.register(Box::new(c.clone()))?;
            Ok(c)
        };
        let histogram = |name: &str, help: &str, labels: &[&str], buckets: &[f64]| {
            let h = HistogramVec::new(HistogramOpts::new(name, help).buckets(buckets.to_vec()), labels)?;
            registry.register(Box::new(h.clone()))?;
            Ok::<_, prometheus::Error>(h)
        };
        let gauge = |name: &str, help: &str| {
            let g = IntGauge::new(name, help)?;
            registry.register(Box::new(g.clone()))?;
            Ok::<_, prometheus::Error>(g)
        };
        let build_info = IntGaugeVec::new(
            Opts::new("uyoop_build_info", "Version of the running app"),
            &["version"],
        )?;
        registry.register(Box::new(build_info.clone()))?;
        build_info.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);

        Ok(Self {
            http_requests: counter(
                "http_requests_total",
                "HTTP requests by method, matched route and status",
                &["method", "route", "status"],
            )?,
            http_duration: histogram(
                "http_request_duration_seconds",
                "HTTP request latency by method and matched route",
                &["method", "route"],
                LATENCY_BUCKETS,
            )?,
            http_in_flight: gauge("http_requests_in_flight", "HTTP requests being served")?,
            events_created: counter("events_created_total", "Events created, by type", &["type"])?,
            deployments: counter(
                "deployments_total",
                "Deployment windows finished, by environment and final status",
                &["environment", "status"],
            )?,
            git_actions_executed: counter(
                "git_actions_executed_total",
                "Git action runs, by status",
                &["status"],
            )?,
            jobs: counter(
                "background_jobs_total",
                "Background jobs run, by kind and outcome",
                &["kind", "outcome"],
            )?,
            jobs_pending: gauge("background_jobs_pending", "Background jobs waiting to run")?,
            rate_limited: counter(
                "rate_limited_total",
                "Requests refused by a rate limit, by policy",
                &["policy"],
            )?,
            logins: counter("auth_logins_total", "Login attempts, by outcome", &["outcome"])?,
            webhook_deliveries: counter(
                "webhook_deliveries_total",
                "Outgoing webhook delivery attempts, by outcome",
                &["outcome"],
            )?,
            dora_lead_time: histogram(
                "dora_lead_time_seconds",
                "Lead time for changes (commit to deployment), by environment",
                &["environment"],
                DORA_BUCKETS,
            )?,
            dora_time_to_restore: histogram(
                "dora_time_to_restore_seconds",
                "Time to restore service after a failed deployment, by environment",
                &["environment"],
                DORA_BUCKETS,
            )?,
            registry,
        }
        .with_known_series())
    }

    /// Creates the series of every known label value at zero, so dashboards and alerts see them
    /// before the first increment (an absent series is not a zero in PromQL).
    fn with_known_series(self) -> Self {
        for kind in ["meeting", "deployment_window", "git_action"] {
            self.events_created.with_label_values(&[kind]);
        }
        for env in ["dev", "staging", "prod"] {
            for status in ["completed", "failed", "rolled_back"] {
                self.deployments.with_label_values(&[env, status]);
            }
        }
        for status in ["succeeded", "failed", "timed_out"] {
            self.git_actions_executed.with_label_values(&[status]);
        }
        for outcome in ["success", "failure", "locked", "mfa_required"] {
            self.logins.with_label_values(&[outcome]);
        }
        for outcome in ["delivered", "retried", "failed"] {
            self.webhook_deliveries.with_label_values(&[outcome]);
        }
        for policy in crate::ratelimit::policies::ALL {
            self.rate_limited.with_label_values(&[policy.name]);
        }
        self
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut buf) {
            tracing::error!(error = %e, "cannot encode metrics");
        }
        String::from_utf8(buf).unwrap_or_default()
    }
}
