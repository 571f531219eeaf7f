//! Sessions (refresh token families), second factor, invitations and delegations.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Id, Role};

/// A refresh token to store. Only its hash is kept.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// Owner.
    pub user_id: Id,
    /// Family: every rotation of one login shares it.
    pub family_id: uuid::Uuid,
    /// SHA-256 of the token, hex.
    pub token_hash: String,
    /// Absolute end of the family.
    pub expires_at: DateTime<Utc>,
    /// Client IP at login.
    pub ip: Option<String>,
    /// Client user agent at login.
    pub user_agent: Option<String>,
}

/// What happened to a refresh token presented for rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// Rotated: the new token is stored in the same family.
    Rotated {
        /// Owner.
        user_id: Id,
        /// Family.
        family_id: uuid::Uuid,
        /// Absolute end of the family.
        expires_at: DateTime<Utc>,
    },
    /// An already-rotated token came back: theft. The whole family is now revoked.
    Reused {
        /// Owner.
        user_id: Id,
        /// Family.
        family_id: uuid::Uuid,
    },
    /// Unknown, revoked, expired or idle too long.
    Invalid,
}

/// A session as its owner sees it.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct SessionInfo {
    /// Family id.
    pub id: uuid::Uuid,
    /// Started.
    pub created_at: DateTime<Utc>,
    /// Last refresh.
    pub last_used_at: DateTime<Utc>,
    /// Absolute end.
    pub expires_at: DateTime<Utc>,
    /// IP at login.
    pub ip: Option<String>,
    /// User agent at login.
    pub user_agent: Option<String>,
}

/// TOTP state of a user.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpState {
    /// Encrypted seed (pending or enabled).
    pub secret_enc: Option<String>,
    /// Enabled.
    pub enabled: bool,
    /// Last time step accepted.
    pub last_step: i64,
}

impl std::fmt::Debug for TotpState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpState")
            .field("enabled", &self.enabled)
            .field("last_step", &self.last_step)
            .finish()
    }
}

/// An invitation to create.
#[derive(Debug, Clone)]
pub struct NewInvitation {
    /// SHA-256 of the token, hex.
    pub token_hash: String,
    /// Invitee e-mail.
    pub email: String,
    /// Role the account gets.
    pub role: Role,
    /// Team the account joins.
    pub team_id: Option<Id>,
    /// Inviting ADMIN.
    pub created_by: Option<Id>,
    /// End of validity.
    pub expires_at: DateTime<Utc>,
}

/// A capability granted for a bounded time (spec 3.2: PROJET grants DEV lead, 72 h at most).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// DEV lead: manage (edit, delete, run) every git action of the team.
    DevLead,
}

impl Capability {
    /// Stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::DevLead => "dev_lead",
        }
    }
}

/// A delegation to create.
#[derive(Debug, Clone)]
pub struct NewDelegation {
    /// Granting user.
    pub grantor_id: Id,
    /// Receiving user.
    pub grantee_id: Id,
    /// Capability.
    pub capability: Capability,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End (at most 72 h after the start; the database enforces it too).
    pub expires_at: DateTime<Utc>,
}

/// A stored delegation.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Delegation {
    /// Identifier.
    pub id: Id,
    /// Granting user.
    pub grantor_id: Id,
    /// Receiving user.
    pub grantee_id: Id,
    /// Capability.
    pub capability: Capability,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub expires_at: DateTime<Utc>,
    /// Ended early.
    pub revoked_at: Option<DateTime<Utc>>,
}
