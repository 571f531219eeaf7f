//! Teams.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::Id;

/// A team of users.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Team {
    /// Identifier.
    pub id: Id,
    /// Unique name.
    pub name: String,
    /// What the team does.
    pub description: String,
    /// The team's lead, if any.
    pub lead_id: Option<Id>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// A team to create.
#[derive(Debug, Clone)]
pub struct NewTeam {
    /// Unique name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Lead.
    pub lead_id: Option<Id>,
}

/// Changes to a team; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct TeamUpdate {
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New lead (`Some(None)` removes it).
    pub lead_id: Option<Option<Id>>,
}
