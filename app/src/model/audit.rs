//! The audit trail: append-only, written in the same transaction as the change it records.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::Id;

/// Whether the audited action succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// It happened.
    Success,
    /// It was refused or failed.
    Failure,
}

impl Outcome {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }
}

/// What to record; who/where come from the request.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    /// The acting user, if known.
    pub user_id: Option<Id>,
    /// How the actor authenticated: `password`, `jwt`, `refresh`, `webhook`, `system` ...
    pub credential: String,
    /// Dotted action name, e.g. `event.create`.
    pub action: String,
    /// Kind of the target, e.g. `event`.
    pub resource_type: String,
    /// Identifier of the target.
    pub resource_id: Option<String>,
    /// Success or failure.
    pub outcome: Outcome,
    /// Structured details. Never a secret.
    pub details: serde_json::Value,
    /// Client IP (after trusted-proxy resolution).
    pub ip: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
    /// Correlation id of the request.
    pub request_id: Option<String>,
}

impl AuditRecord {
    /// A record of `action` on `resource_type` by the system itself.
    pub fn system(action: &str, resource_type: &str) -> Self {
        Self {
            user_id: None,
            credential: "system".to_owned(),
            action: action.to_owned(),
            resource_type: resource_type.to_owned(),
            resource_id: None,
            outcome: Outcome::Success,
            details: serde_json::Value::Object(Default::default()),
            ip: None,
            user_agent: None,
            request_id: None,
        }
    }

    /// The same record about the row with this id.
    pub fn on(mut self, resource_id: super::Id) -> Self {
        self.resource_id = Some(resource_id.to_string());
        self
    }

    /// The same record with details.
    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

/// A stored audit row.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct AuditEntry {
    /// Identifier (monotonic).
    pub id: Id,
    /// When, UTC.
    pub occurred_at: DateTime<Utc>,
    /// Acting user.
    pub user_id: Option<Id>,
    /// Credential kind.
    pub credential: String,
    /// Action.
    pub action: String,
    /// Target kind.
    pub resource_type: String,
    /// Target id.
    pub resource_id: Option<String>,
    /// `success` or `failure`.
    pub outcome: String,
    /// Details.
    pub details: serde_json::Value,
    /// Client IP.
    pub ip: Option<String>,
    /// User agent.
    pub user_agent: Option<String>,
    /// Request id.
    pub request_id: Option<String>,
}

/// Filters of the audit list.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Only this actor.
    pub user_id: Option<Id>,
    /// Only actions starting with this prefix.
    pub action_prefix: Option<String>,
    /// Only this resource type.
    pub resource_type: Option<String>,
    /// Not before.
    pub since: Option<DateTime<Utc>>,
    /// Before.
    pub until: Option<DateTime<Utc>>,
    /// Rows to skip.
    pub offset: i64,
    /// Rows to return.
    pub limit: i64,
}
