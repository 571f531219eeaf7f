//! Calendar events: three kinds, each with a typed payload stored in `extra`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Id;

/// The three kinds of event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A meeting.
    Meeting,
    /// A deployment window.
    DeploymentWindow,
    /// A git action.
    GitAction,
}

impl EventKind {
    /// Every kind.
    pub const ALL: [EventKind; 3] = [
        EventKind::Meeting,
        EventKind::DeploymentWindow,
        EventKind::GitAction,
    ];

    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Meeting => "meeting",
            EventKind::DeploymentWindow => "deployment_window",
            EventKind::GitAction => "git_action",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Status of an event. Meetings and git actions mostly stay `planned`; deployment windows move
/// through the lifecycle `planned -> in_progress -> completed | failed | rolled_back`, with
/// `pending_approval`/`refused` before `planned` in production.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    /// Waiting for an ADMIN's approval (production deployment windows).
    PendingApproval,
    /// Approval refused.
    Refused,
    /// Scheduled.
    Planned,
    /// Running.
    InProgress,
    /// Finished well.
    Completed,
    /// Finished badly.
    Failed,
    /// Undone.
    RolledBack,
    /// Called off.
    Cancelled,
}

impl EventStatus {
    /// Every status.
    pub const ALL: [EventStatus; 8] = [
        EventStatus::PendingApproval,
        EventStatus::Refused,
        EventStatus::Planned,
        EventStatus::InProgress,
        EventStatus::Completed,
        EventStatus::Failed,
        EventStatus::RolledBack,
        EventStatus::Cancelled,
    ];

    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            EventStatus::PendingApproval => "pending_approval",
            EventStatus::Refused => "refused",
            EventStatus::Planned => "planned",
            EventStatus::InProgress => "in_progress",
            EventStatus::Completed => "completed",
            EventStatus::Failed => "failed",
            EventStatus::RolledBack => "rolled_back",
            EventStatus::Cancelled => "cancelled",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        EventStatus::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Kind of meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MeetingKind {
    /// Daily standup.
    Daily,
    /// Sprint planning.
    Planning,
    /// Retrospective.
    Retro,
    /// Sprint review.
    Review,
    /// Technical meeting.
    Technical,
}

/// Sprint/epic tags of a meeting.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingTags {
    /// Sprint number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sprint: Option<i32>,
    /// Epic name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epic: Option<String>,
}

/// Payload of a meeting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingExtra {
    /// Kind of meeting.
    pub meeting_kind: MeetingKind,
    /// Participating users.
    #[serde(default)]
    pub participants: Vec<Id>,
    /// Video conference link (http or https).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_url: Option<String>,
    /// Agenda, markdown.
    #[serde(default)]
    pub agenda_md: String,
    /// Tags.
    #[serde(default)]
    pub tags: MeetingTags,
    /// Repetition; the server derives the RFC 5545 RRULE of the event from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurrence: Option<Recurrence>,
}

/// How often a meeting repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    /// Once.
    None,
    /// Every day (or every `interval` days).
    Daily,
    /// Every week, same weekday.
    Weekly,
    /// Every month, same day of month.
    Monthly,
}

/// A meeting's repetition, as the wizard asks for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Recurrence {
    /// Frequency.
    pub freq: Frequency,
    /// Every n days/weeks/months (1 by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<u32>,
    /// Last day of the series (inclusive, in UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<chrono::NaiveDate>,
    /// Number of occurrences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// Only on these weekdays (`MO`..`SU`), for daily or weekly meetings (e.g. a Mon-Fri standup).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by_day: Vec<String>,
}

/// Target environment of a deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Environment {
    /// Development.
    Dev,
    /// Staging.
    Staging,
    /// Production: needs ADMIN approval.
    Prod,
}

impl Environment {
    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        [Environment::Dev, Environment::Staging, Environment::Prod]
            .into_iter()
            .find(|e| e.as_str() == s)
    }

    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Dev => "dev",
            Environment::Staging => "staging",
            Environment::Prod => "prod",
        }
    }
}

/// One item of a pre-deployment checklist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistItem {
    /// What to check.
    pub label: String,
    /// Checked.
    #[serde(default)]
    pub done: bool,
    /// Who checked it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_by: Option<Id>,
    /// When.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_at: Option<DateTime<Utc>>,
}

/// Payload of a deployment window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeploymentExtra {
    /// Environment.
    pub environment: Environment,
    /// Estimated duration in minutes.
    pub duration_minutes: u32,
    /// Impacted services.
    #[serde(default)]
    pub services: Vec<String>,
    /// What changes.
    #[serde(default)]
    pub change_description: String,
    /// Pre-deployment checklist.
    #[serde(default)]
    pub checklist: Vec<ChecklistItem>,
    /// How to roll back.
    #[serde(default)]
    pub rollback_plan: String,
}

/// What a git action does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GitOperation {
    /// git clone.
    Clone,
    /// git pull.
    Pull,
    /// git merge.
    Merge,
    /// git tag.
    Tag,
    /// A release.
    Release,
}

/// What starts a git action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GitTrigger {
    /// A person clicks run.
    Manual,
    /// An incoming webhook.
    Webhook,
    /// A cron schedule.
    Cron,
}

/// What runs after a git action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PostAction {
    /// Run the tests.
    RunTests,
    /// Build a container image.
    BuildImage,
    /// Notify (Slack/Teams).
    Notify,
}

/// Payload of a git action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GitActionExtra {
    /// Remote URL, `https://` or `git@`.
    pub repository_url: String,
    /// Branch.
    pub branch: String,
    /// Operation.
    pub action: GitOperation,
    /// Trigger.
    pub trigger: GitTrigger,
    /// Cron expression when the trigger is `cron`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron: Option<String>,
    /// Post-actions.
    #[serde(default)]
    pub post_actions: Vec<PostAction>,
}

/// The typed payload of an event, one variant per kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", content = "extra", rename_all = "snake_case")]
pub enum EventPayload {
    /// A meeting.
    Meeting(MeetingExtra),
    /// A deployment window.
    DeploymentWindow(DeploymentExtra),
    /// A git action.
    GitAction(GitActionExtra),
}

impl EventPayload {
    /// The kind of this payload.
    pub fn kind(&self) -> EventKind {
        match self {
            EventPayload::Meeting(_) => EventKind::Meeting,
            EventPayload::DeploymentWindow(_) => EventKind::DeploymentWindow,
            EventPayload::GitAction(_) => EventKind::GitAction,
        }
    }

    /// The `extra` JSON stored beside the kind.
    pub fn extra_json(&self) -> serde_json::Value {
        let value = match self {
            EventPayload::Meeting(e) => serde_json::to_value(e),
            EventPayload::DeploymentWindow(e) => serde_json::to_value(e),
            EventPayload::GitAction(e) => serde_json::to_value(e),
        };
        // Serializing these plain structs cannot fail (no maps with non-string keys).
        value.unwrap_or_default()
    }

    /// Rebuilds the payload from its stored parts.
    pub fn from_parts(kind: EventKind, extra: serde_json::Value) -> Result<Self, serde_json::Error> {
        Ok(match kind {
            EventKind::Meeting => EventPayload::Meeting(serde_json::from_value(extra)?),
            EventKind::DeploymentWindow => EventPayload::DeploymentWindow(serde_json::from_value(extra)?),
            EventKind::GitAction => EventPayload::GitAction(serde_json::from_value(extra)?),
        })
    }
}

/// A stored event (a series when `rrule` is set).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Event {
    /// Identifier.
    pub id: Id,
    /// Title, at most 255 characters.
    pub title: String,
    /// Description, at most 2000 characters.
    pub description: String,
    /// Start (of the first occurrence for a series).
    pub start: DateTime<Utc>,
    /// End (of the first occurrence for a series).
    pub end: DateTime<Utc>,
    /// RFC 5545 recurrence rule, e.g. `FREQ=WEEKLY;BYDAY=MO`.
    pub rrule: Option<String>,
    /// Occurrence starts removed from the series.
    pub exdates: Vec<DateTime<Utc>>,
    /// For an edited occurrence: the series it belongs to.
    pub parent_id: Option<Id>,
    /// For an edited occurrence: the start of the occurrence it replaces.
    pub recurrence_id: Option<DateTime<Utc>>,
    /// Kind and payload.
    #[serde(flatten)]
    pub payload: EventPayload,
    /// Status.
    pub status: EventStatus,
    /// Creator.
    pub created_by: Option<Id>,
    /// Team.
    pub team_id: Option<Id>,
    /// Approving ADMIN (production deployment windows).
    pub approved_by: Option<Id>,
    /// Approval time.
    pub approved_at: Option<DateTime<Utc>>,
    /// Optimistic concurrency version; an update must name the current one.
    pub version: i32,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl Event {
    /// Kind of the event.
    pub fn kind(&self) -> EventKind {
        self.payload.kind()
    }
}

/// An event to create.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Start.
    pub start: DateTime<Utc>,
    /// End.
    pub end: DateTime<Utc>,
    /// Recurrence rule.
    pub rrule: Option<String>,
    /// End of the whole series: `end` for a single event, the last occurrence's end for a bounded
    /// series, `None` for an unbounded one. Drives the range index.
    pub series_end: Option<DateTime<Utc>>,
    /// Kind and payload.
    pub payload: EventPayload,
    /// Initial status.
    pub status: EventStatus,
    /// Creator.
    pub created_by: Option<Id>,
    /// Team.
    pub team_id: Option<Id>,
    /// For an edited occurrence of a series.
    pub parent_id: Option<Id>,
    /// For an edited occurrence of a series.
    pub recurrence_id: Option<DateTime<Utc>>,
}

/// A full replacement of an event's editable fields, guarded by `expected_version`.
#[derive(Debug, Clone)]
pub struct UpdateEvent {
    /// The version the client read; a different current version is a 409.
    pub expected_version: i32,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Start.
    pub start: DateTime<Utc>,
    /// End.
    pub end: DateTime<Utc>,
    /// Recurrence rule.
    pub rrule: Option<String>,
    /// See [`NewEvent::series_end`].
    pub series_end: Option<DateTime<Utc>>,
    /// Removed occurrences.
    pub exdates: Vec<DateTime<Utc>>,
    /// Payload (same kind).
    pub payload: EventPayload,
    /// Status.
    pub status: EventStatus,
    /// Team.
    pub team_id: Option<Id>,
    /// Approver.
    pub approved_by: Option<Id>,
    /// Approval time.
    pub approved_at: Option<DateTime<Utc>>,
}

impl UpdateEvent {
    /// An update that keeps everything of `event` as it is (edit the fields you change).
    pub fn from_event(event: &Event) -> Self {
        Self {
            expected_version: event.version,
            title: event.title.clone(),
            description: event.description.clone(),
            start: event.start,
            end: event.end,
            rrule: event.rrule.clone(),
            series_end: if event.rrule.is_some() {
                None
            } else {
                Some(event.end)
            },
            exdates: event.exdates.clone(),
            payload: event.payload.clone(),
            status: event.status,
            team_id: event.team_id,
            approved_by: event.approved_by,
            approved_at: event.approved_at,
        }
    }
}

/// Filters of the event list. `window` selects events whose span overlaps `[start, end)`.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    /// Overlap window.
    pub window: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// Only this kind.
    pub kind: Option<EventKind>,
    /// Only this status.
    pub status: Option<EventStatus>,
    /// Only this team.
    pub team_id: Option<Id>,
    /// Only by this creator.
    pub created_by: Option<Id>,
    /// At most this many rows.
    pub limit: i64,
}

/// One step of a production approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalAction {
    /// The requester submitted the window.
    Submitted,
    /// An ADMIN started reviewing.
    ReviewStarted,
    /// An ADMIN approved.
    Approved,
    /// An ADMIN refused (with a comment).
    Refused,
    /// The requester withdrew it.
    Withdrawn,
}

impl ApprovalAction {
    /// Stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalAction::Submitted => "submitted",
            ApprovalAction::ReviewStarted => "review_started",
            ApprovalAction::Approved => "approved",
            ApprovalAction::Refused => "refused",
            ApprovalAction::Withdrawn => "withdrawn",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        use ApprovalAction::*;
        [Submitted, ReviewStarted, Approved, Refused, Withdrawn]
            .into_iter()
            .find(|a| a.as_str() == s)
    }
}

/// Who did something, as lists show it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Actor {
    /// User id.
    pub id: Id,
    /// Username.
    pub username: String,
}

/// A row of an event's history: an approval step or a status change.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct HistoryEntry {
    /// Identifier (per kind).
    pub id: Id,
    /// `approval` or `status`.
    pub kind: String,
    /// For approvals: the step (`submitted`, `approved` ...); for status changes: `from->to`.
    pub action: String,
    /// Status before (status changes only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_status: Option<String>,
    /// Status after (status changes only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_status: Option<String>,
    /// Who.
    pub actor: Option<Actor>,
    /// Why.
    pub comment: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// A change of status, guarded by the status it starts from.
#[derive(Debug, Clone)]
pub struct StatusChange {
    /// Expected current status (else 409).
    pub from: EventStatus,
    /// New status.
    pub to: EventStatus,
    /// Who.
    pub actor_id: Option<Id>,
    /// Why.
    pub comment: String,
    /// An approval step recorded with the change, if any.
    pub approval: Option<ApprovalAction>,
    /// Set `approved_by`/`approved_at` (approval) or clear them (`Some(None)`).
    pub approved_by: Option<Option<Id>>,
    /// New payload (e.g. a ticked checklist), if it changes too.
    pub payload: Option<EventPayload>,
}

/// A period during which production deployments are blocked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FreezePeriod {
    /// Identifier.
    pub id: Id,
    /// Name shown in refusals, e.g. "Year-end freeze".
    pub name: String,
    /// Start (of the first occurrence when recurring).
    pub starts_at: DateTime<Utc>,
    /// End (of the first occurrence when recurring).
    pub ends_at: DateTime<Utc>,
    /// RFC 5545 RRULE for recurring freezes, interpreted in `timezone`.
    pub rrule: Option<String>,
    /// IANA time zone of the recurrence.
    pub timezone: String,
    /// Environments it blocks.
    pub environments: Vec<Environment>,
    /// Creator.
    pub created_by: Option<Id>,
}

/// A freeze to create.
#[derive(Debug, Clone)]
pub struct NewFreeze {
    /// Name.
    pub name: String,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
    /// Recurrence.
    pub rrule: Option<String>,
    /// Time zone.
    pub timezone: String,
    /// Environments.
    pub environments: Vec<Environment>,
    /// Creator.
    pub created_by: Option<Id>,
}
