//! `GET /api/audit`: the audit trail, for ADMINs.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{Auth, Permission, require};
use crate::error::{Problem, Result};
use crate::http::AppState;
use crate::http::extract::{Json, Query};
use crate::http::meta::ClientMeta;
use crate::model::{AuditEntry, AuditQuery, Id, Page};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit))
}

/// Filters of the audit list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditFilter {
    /// Only this actor.
    pub user_id: Option<Id>,
    /// Only actions starting with this, e.g. `auth.` or `event.create`.
    pub action: Option<String>,
    /// Only this resource type.
    pub resource_type: Option<String>,
    /// Not before (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// Before (RFC 3339).
    pub until: Option<DateTime<Utc>>,
    /// Rows to skip.
    #[serde(default)]
    pub offset: i64,
    /// Rows to return (100 by default, 500 at most).
    #[serde(default)]
    pub limit: i64,
}

/// The audit trail, newest first (ADMIN).
#[utoipa::path(get, path = "/api/audit", tag = "audit", params(AuditFilter),
    responses((status = 200, body = Page<AuditEntry>), (status = 403, body = Problem)), security(("bearer" = [])))]
async fn list_audit(
    State(state): State<AppState>,
    Auth(caller): Auth,
    meta: ClientMeta,
    Query(f): Query<AuditFilter>,
) -> Result<Json<Page<AuditEntry>>> {
    require(&state, &caller, &meta, Permission::ReadAudit).await?;
    let q = AuditQuery {
        user_id: f.user_id,
        action_prefix: f.action,
        resource_type: f.resource_type,
        since: f.since,
        until: f.until,
        offset: f.offset,
        limit: f.limit,
    };
    Ok(Json(state.store.list_audit(&q).await?))
}
