//! The crate's one error type and its HTTP form, RFC 9457 `application/problem+json`.
//!
//! Client errors carry what the client can fix (field errors for validation). Internal errors are
//! logged with their cause, once, here, and answered with a generic message and the request id.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// Media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One invalid field of a request body or query.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, ToSchema)]
pub struct FieldError {
    /// Path of the field, e.g. `extra.repository_url`.
    pub field: String,
    /// A stable machine-readable code, e.g. `too_long`.
    pub code: String,
    /// What is wrong and how to fix it, in English.
    pub message: String,
}

impl FieldError {
    /// A field error.
    pub fn new(field: impl Into<String>, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

/// Everything that can go wrong in uYoop-Cal.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is well-formed but some fields are invalid (422).
    #[error("invalid {}", describe_fields(.0))]
    Validation(Vec<FieldError>),
    /// The request cannot be parsed (400).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// No valid credentials (401).
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// Authenticated, not allowed (403). The slug names the reason for clients.
    #[error("forbidden: {detail}")]
    Forbidden {
        /// Machine-readable reason, becomes the problem type.
        slug: &'static str,
        /// Human explanation.
        detail: String,
    },
    /// The resource does not exist or is not visible to the caller (404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request conflicts with the current state (409).
    #[error("conflict: {detail}")]
    Conflict {
        /// Machine-readable reason, becomes the problem type.
        slug: &'static str,
        /// Human explanation.
        detail: String,
    },
    /// A unique value is taken (409), with the field at fault.
    #[error("duplicate {field}: {message}")]
    Duplicate {
        /// The field whose value is taken.
        field: &'static str,
        /// What to do.
        message: &'static str,
    },
    /// A deployment window cannot be scheduled then (409): what blocks it, and the next free slot.
    #[error("deployment conflict: {detail}")]
    DeploymentConflict {
        /// Human explanation (names every blocker).
        detail: String,
        /// The blocking windows and freezes, as `events::workflow::Conflict` objects.
        conflicts: serde_json::Value,
        /// The earliest start, within 60 days, where the window fits.
        next_free_slot: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// The ticket between the password and the second factor is expired or invalid (401).
    #[error("the sign-in step expired or is invalid")]
    MfaTicketInvalid,
    /// The body is not JSON (415).
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    /// The body is larger than the configured limit (413).
    #[error("payload too large")]
    PayloadTooLarge,
    /// Rate limit hit (429).
    #[error("too many requests")]
    TooManyRequests {
        /// Seconds until a retry may succeed.
        retry_after_secs: u64,
    },
    /// A dependency (database, Redis, Vault) is not reachable (503).
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// The configuration cannot be used.
    #[error("{0}")]
    Config(#[from] crate::config::ConfigError),
    /// A bug or an unexpected failure (500). The cause is logged, never returned.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

fn describe_fields(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Result alias of the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A 409 with a reason.
    pub fn conflict(slug: &'static str, detail: impl Into<String>) -> Self {
        Self::Conflict {
            slug,
            detail: detail.into(),
        }
    }

    /// A 403 with a reason.
    pub fn forbidden(slug: &'static str, detail: impl Into<String>) -> Self {
        Self::Forbidden {
            slug,
            detail: detail.into(),
        }
    }

    /// A 422 on a single field.
    pub fn invalid(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, code, message)])
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict { .. } | Self::Duplicate { .. } | Self::DeploymentConflict { .. } => {
                StatusCode::CONFLICT
            }
            Self::MfaTicketInvalid => StatusCode::UNAUTHORIZED,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Config(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn slug(&self) -> &'static str {
        match self {
            Self::Validation(_) => "validation",
            Self::BadRequest(_) => "bad-request",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden { slug, .. } | Self::Conflict { slug, .. } => slug,
            Self::NotFound(_) => "not-found",
            Self::Duplicate { .. } => "duplicate",
            Self::DeploymentConflict { .. } => "deployment-conflict",
            Self::MfaTicketInvalid => "mfa-ticket-invalid",
            Self::UnsupportedMediaType(_) => "unsupported-media-type",
            Self::PayloadTooLarge => "payload-too-large",
            Self::TooManyRequests { .. } => "rate-limited",
            Self::Unavailable(_) => "unavailable",
            Self::Config(_) | Self::Internal(_) => "internal",
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::Validation(errors) => format!(
                "{} field(s) are invalid; see `errors` for each field and how to fix it",
                errors.len()
            ),
            Self::BadRequest(d)
            | Self::Unauthorized(d)
            | Self::UnsupportedMediaType(d)
            | Self::Unavailable(d) => d.clone(),
            Self::Forbidden { detail, .. }
            | Self::Conflict { detail, .. }
            | Self::DeploymentConflict { detail, .. } => detail.clone(),
            Self::NotFound(what) => format!("{what} not found"),
            Self::Duplicate { field, message } => format!("{field}: {message}"),
            Self::MfaTicketInvalid => {
                "the sign-in step expired or is invalid; enter your password again".to_owned()
            }
            Self::PayloadTooLarge => "the request body is larger than the server accepts".to_owned(),
            Self::TooManyRequests { retry_after_secs } => {
                format!("too many requests; retry in {retry_after_secs} s")
            }
            Self::Config(_) | Self::Internal(_) => {
                "an unexpected error occurred; report the request_id to your administrator".to_owned()
            }
        }
    }
}

/// The RFC 9457 body.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem, e.g. `/problems/validation`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the kind of problem.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// Explanation specific to this occurrence.
    pub detail: String,
    /// Correlation id, also in the `x-request-id` response header and the logs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Field errors, for validation problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Deployment conflicts: what blocks the window.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub conflicts: Option<serde_json::Value>,
    /// Deployment conflicts: the earliest start where the window fits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_free_slot: Option<chrono::DateTime<chrono::Utc>>,
    /// Readiness problems: each dependency and its state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checks: Option<serde_json::Map<String, serde_json::Value>>,
}

impl Problem {
    /// A problem for a status with a slug and detail.
    pub fn new(status: StatusCode, slug: &str, detail: impl Into<String>) -> Self {
        Self {
            kind: format!("/problems/{slug}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            request_id: crate::http::request_id::current(),
            errors: Vec::new(),
            checks: None,
            conflicts: None,
            next_free_slot: None,
        }
    }

    /// Serializes the problem into a response.
    pub fn into_response_with(self, extra_headers: &[(header::HeaderName, HeaderValue)]) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_else(|_| b"{}".to_vec());
        let mut resp = (status, body).into_response();
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        for (k, v) in extra_headers {
            resp.headers_mut().insert(k.clone(), v.clone());
        }
        resp
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            // Logged once, here, with the cause chain; the client sees only the request id.
            tracing::error!(error = ?self, "request failed");
        }
        let mut problem = Problem::new(status, self.slug(), self.detail());
        let mut headers = Vec::new();
        match self {
            Self::Validation(errors) => problem.errors = errors,
            Self::Duplicate { field, message } => {
                problem.errors = vec![FieldError::new(field, "taken", message)]
            }
            Self::DeploymentConflict {
                conflicts,
                next_free_slot,
                ..
            } => {
                problem.conflicts = Some(conflicts);
                problem.next_free_slot = next_free_slot;
            }
            Self::TooManyRequests { retry_after_secs } => {
                if let Ok(v) = HeaderValue::from_str(&retry_after_secs.max(1).to_string()) {
                    headers.push((header::RETRY_AFTER, v));
                }
            }
            Self::Unauthorized(_) => {
                headers.push((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
            }
            _ => {}
        }
        problem.into_response_with(&headers)
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        crate::store::map_sqlx_error(e)
    }
}

impl From<sqlx::migrate::MigrateError> for Error {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Self::Internal(anyhow::Error::new(e).context("database migration failed"))
    }
}
