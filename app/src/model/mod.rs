//! The data model: plain types shared by the storage backends and the HTTP layer.

pub mod audit;
pub mod auth;
pub mod event;
pub mod job;
pub mod social;
pub mod team;
pub mod user;

pub use audit::{AuditEntry, AuditQuery, AuditRecord, Outcome};
pub use auth::{
    Capability, Delegation, NewDelegation, NewInvitation, NewSession, Rotation, SessionInfo, TotpState,
};
pub use event::{
    Actor, ApprovalAction, Environment, Event, EventKind, EventPayload, EventQuery, EventStatus,
    FreezePeriod, HistoryEntry, NewEvent, NewFreeze, StatusChange, UpdateEvent,
};
pub use job::{Job, JobStatus, NewJob};
pub use social::{
    Comment, NewComment, NewNotification, Notification, NotificationKind, NotificationPreferences,
    ReactionEntry, UserRef,
};
pub use team::{NewTeam, Team, TeamUpdate};
pub use user::{NewUser, Role, User, UserQuery, UserUpdate};

/// Identifier of every stored row.
pub type Id = i64;

/// One page of a list.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// How many rows match in all.
    pub total: i64,
}
