//! Who is calling from where: the client IP (through trusted proxies only), user agent and request
//! id, for rate-limit keys and audit rows.

use std::net::IpAddr;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use super::AppState;
use crate::error::Error;
use crate::model::{AuditRecord, Id, Outcome};

/// Request metadata.
#[derive(Debug, Clone)]
pub struct ClientMeta {
    /// Client IP after trusted-proxy resolution.
    pub ip: IpAddr,
    /// User agent, truncated to 256 characters.
    pub user_agent: Option<String>,
    /// Request id.
    pub request_id: Option<String>,
}

impl ClientMeta {
    /// An audit record of `action` on `resource_type` by `user_id` through `credential`.
    pub fn audit(
        &self,
        user_id: Option<Id>,
        credential: &str,
        action: &str,
        resource_type: &str,
    ) -> AuditRecord {
        AuditRecord {
            user_id,
            credential: credential.to_owned(),
            action: action.to_owned(),
            resource_type: resource_type.to_owned(),
            resource_id: None,
            outcome: Outcome::Success,
            details: serde_json::json!({}),
            ip: Some(self.ip.to_string()),
            user_agent: self.user_agent.clone(),
            request_id: self.request_id.clone(),
        }
    }
}

impl FromRequestParts<AppState> for ClientMeta {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let ip = super::client_ip::from_parts(parts, state).unwrap_or(IpAddr::from([127, 0, 0, 1]));
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(256).collect());
        Ok(ClientMeta {
            ip,
            user_agent,
            request_id: super::request_id::current().filter(|r| !r.is_empty()),
        })
    }
}
