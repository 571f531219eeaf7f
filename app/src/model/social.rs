//! Collaboration and notifications: comments with reactions, in-app notifications, preferences.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Id;

/// A comment to store. The body is kept exactly as written; HTML is rendered on the way out.
#[derive(Debug, Clone)]
pub struct NewComment {
    /// The event commented on.
    pub event_id: Id,
    /// Author.
    pub author_id: Id,
    /// Markdown source, 1 to 10000 characters.
    pub body: String,
}

/// Who wrote a comment or reacted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct UserRef {
    /// User id.
    pub id: Id,
    /// Login name.
    pub username: String,
}

/// One user's reaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReactionEntry {
    /// The emoji.
    pub emoji: String,
    /// Who.
    pub user: UserRef,
}

/// A stored comment with every reaction on it.
#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    /// Identifier.
    pub id: Id,
    /// Event.
    pub event_id: Id,
    /// Author; `None` once their account is deleted.
    pub author: Option<UserRef>,
    /// Markdown source as written.
    pub body: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Reactions, oldest first.
    pub reactions: Vec<ReactionEntry>,
}

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// Someone mentioned you in a comment.
    Mention,
    /// A production deployment waits for your approval.
    ApprovalRequested,
    /// Your deployment was approved or refused.
    ApprovalDecided,
    /// An event you created or attend changed status.
    StatusChanged,
    /// A production deployment starts soon.
    Reminder,
}

impl NotificationKind {
    /// Every kind.
    pub const ALL: [NotificationKind; 5] = [
        NotificationKind::Mention,
        NotificationKind::ApprovalRequested,
        NotificationKind::ApprovalDecided,
        NotificationKind::StatusChanged,
        NotificationKind::Reminder,
    ];

    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::Mention => "mention",
            NotificationKind::ApprovalRequested => "approval_requested",
            NotificationKind::ApprovalDecided => "approval_decided",
            NotificationKind::StatusChanged => "status_changed",
            NotificationKind::Reminder => "reminder",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        NotificationKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Critical kinds are e-mailed at once; the others wait for the daily digest.
    pub fn is_critical(self) -> bool {
        matches!(
            self,
            NotificationKind::ApprovalRequested | NotificationKind::Reminder
        )
    }
}

/// An in-app notification to store.
#[derive(Debug, Clone)]
pub struct NewNotification {
    /// Recipient.
    pub user_id: Id,
    /// Kind.
    pub kind: NotificationKind,
    /// Title, in the recipient's language.
    pub title: String,
    /// Body (plain text), in the recipient's language.
    pub body: String,
    /// Path in the web app, e.g. `/events/12`.
    pub link: Option<String>,
    /// Structured context (event id, actor...).
    pub data: serde_json::Value,
    /// Unique: a second row with the same key is not stored (at-least-once jobs, effects once).
    pub dedupe_key: String,
}

/// A stored notification.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Notification {
    /// Identifier.
    pub id: Id,
    /// Recipient.
    #[serde(skip)]
    pub user_id: Id,
    /// Kind.
    pub kind: NotificationKind,
    /// Title.
    pub title: String,
    /// Body, plain text.
    pub body: String,
    /// Path in the web app.
    pub link: Option<String>,
    /// When read; `None` while unread.
    pub read_at: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Structured context.
    #[serde(skip)]
    pub data: serde_json::Value,
    /// Dedupe key.
    #[serde(skip)]
    pub dedupe_key: Option<String>,
}

/// A user's delivery choices. In-app notifications are always on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationPreferences {
    /// E-mail at all (critical alerts at once).
    pub email: bool,
    /// The daily e-mail digest of the other notifications.
    pub daily_digest: bool,
    /// Slack/Teams channel messages about your notifications.
    pub chat: bool,
    /// Reminders before production deployments.
    pub reminders: bool,
}

impl Default for NotificationPreferences {
    fn default() -> Self {
        Self {
            email: true,
            daily_digest: true,
            chat: true,
            reminders: true,
        }
    }
}
