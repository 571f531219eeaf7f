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
