//! Users and their roles.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Id;

/// The four roles of spec 3.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Role {
    /// Project lead: every event kind (own), own team.
    Projet,
    /// Developer: git actions.
    Dev,
    /// Operations: deployment windows.
    Ops,
    /// Administrator: everything.
    Admin,
}

impl Role {
    /// Every role, in the spec's order.
    pub const ALL: [Role; 4] = [Role::Projet, Role::Dev, Role::Ops, Role::Admin];

    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Projet => "PROJET",
            Role::Dev => "DEV",
            Role::Ops => "OPS",
            Role::Admin => "ADMIN",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown role `{s}`; use one of PROJET, DEV, OPS, ADMIN"))
    }
}

/// A stored user. The password hash and TOTP secret are never serialized.
#[derive(Clone, Serialize, ToSchema, PartialEq)]
pub struct User {
    /// Identifier.
    pub id: Id,
    /// Unique login name (case-insensitive).
    pub username: String,
    /// Unique e-mail (case-insensitive).
    pub email: String,
    /// Name shown in the UI.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Team, if any.
    pub team_id: Option<Id>,
    /// Whether TOTP 2FA is on.
    pub totp_enabled: bool,
    /// A disabled user cannot sign in.
    pub disabled: bool,
    /// Locked after too many failed logins, until an ADMIN unlocks it.
    pub locked: bool,
    /// UI language, `fr` or `en`.
    pub locale: String,
    /// IANA time zone for dates.
    pub timezone: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// argon2id PHC string.
    #[serde(skip)]
    pub password_hash: String,
    /// Bumped to end every session of the user at once (role change, disable, "sign out everywhere").
    #[serde(skip)]
    pub session_epoch: i64,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("role", &self.role)
            .field("team_id", &self.team_id)
            .finish_non_exhaustive()
    }
}

/// A user to create.
#[derive(Clone)]
pub struct NewUser {
    /// Login name.
    pub username: String,
    /// E-mail.
    pub email: String,
    /// Display name.
    pub display_name: String,
    /// argon2id PHC string (hashing happens before the store).
    pub password_hash: String,
    /// Role.
    pub role: Role,
    /// Team.
    pub team_id: Option<Id>,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("username", &self.username)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// Changes to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserUpdate {
    /// New e-mail.
    pub email: Option<String>,
    /// New display name.
    pub display_name: Option<String>,
    /// New role.
    pub role: Option<Role>,
    /// New team (`Some(None)` removes it).
    pub team_id: Option<Option<Id>>,
    /// Disable or enable.
    pub disabled: Option<bool>,
    /// UI language.
    pub locale: Option<String>,
    /// Time zone.
    pub timezone: Option<String>,
}

/// Filters of the user list.
#[derive(Debug, Clone, Default)]
pub struct UserQuery {
    /// Only this role.
    pub role: Option<Role>,
    /// Only this team.
    pub team_id: Option<Id>,
    /// Rows to skip.
    pub offset: i64,
    /// Rows to return.
    pub limit: i64,
}
