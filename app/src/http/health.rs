//! Liveness (`/health`: the process answers) and readiness (`/ready`: its dependencies answer).

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::AppState;
use super::extract::Json;
use crate::error::Problem;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(ready))
        .routes(routes!(version))
}

/// Liveness answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    pub status: &'static str,
    /// Version of the running binary.
    pub version: &'static str,
}

/// Liveness: answers without touching any dependency.
#[utoipa::path(get, path = "/health", tag = "health", responses((status = 200, body = Health)))]
async fn health() -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
}

/// Readiness answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ready {
    /// `ready`.
    pub status: &'static str,
    /// Each dependency and its state (`ok`, `unreachable`).
    pub checks: serde_json::Map<String, serde_json::Value>,
}

const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Readiness: the database answers, and Redis when configured. 503 (problem+json with `checks`)
/// otherwise, so the load balancer stops sending traffic.
#[utoipa::path(get, path = "/ready", tag = "health", responses(
    (status = 200, body = Ready),
    (status = 503, description = "A dependency does not answer", body = Problem, content_type = "application/problem+json")
))]
async fn ready(State(state): State<AppState>) -> Response {
    let mut checks = serde_json::Map::new();
    let mut ok = true;
    let db = tokio::time::timeout(CHECK_TIMEOUT, state.store.ping()).await;
    let db_ok = matches!(db, Ok(Ok(())));
    if let Ok(Err(e)) = &db {
        tracing::warn!(error = %e, "readiness: database check failed");
    }
    ok &= db_ok;
    checks.insert(
        "database".into(),
        (if db_ok { "ok" } else { "unreachable" }).into(),
    );
    if let Some(redis) = &state.redis {
        let mut conn = redis.clone();
        let pong =
            tokio::time::timeout(CHECK_TIMEOUT, redis::cmd("PING").query_async::<String>(&mut conn)).await;
        let redis_ok = matches!(pong, Ok(Ok(_)));
        ok &= redis_ok;
        checks.insert(
            "redis".into(),
            (if redis_ok { "ok" } else { "unreachable" }).into(),
        );
    }
    if ok {
        Json(Ready {
            status: "ready",
            checks,
        })
        .into_response()
    } else {
        let mut problem = Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not-ready",
            "a dependency does not answer; see `checks`",
        );
        problem.checks = Some(checks);
        problem.into_response()
    }
}

/// Version answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Version {
    /// Semantic version of the server.
    pub version: &'static str,
}

/// The server's version.
#[utoipa::path(get, path = "/api/version", tag = "meta", responses((status = 200, body = Version)))]
async fn version() -> Json<Version> {
    Json(Version {
        version: env!("CARGO_PKG_VERSION"),
    })
}
