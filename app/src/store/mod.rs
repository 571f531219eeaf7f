//! The storage seam: per-aggregate traits, one implementation per backend.
//!
//! - [`sqlite::SqliteStore`]: the embedded default (`sqlite://data/uyoop.db`).
//! - [`postgres::PgStore`]: production (`postgres://...`), JSONB + GIN, a GiST range index for the calendar.
//!
//! Each backend owns its migrations (`app/migrations/<backend>/`), embedded in the binary. Every
//! mutating method takes the [`AuditRecord`] of the change and writes it in the same transaction,
//! so a change without its audit row cannot exist. One contract test suite
//! (`app/tests/it/store_contract.rs`) runs against both backends.

pub mod postgres;
mod sql;
mod sql_events;
mod sql_social;
pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::config::{DatabaseSettings, redact_url};
use crate::error::{Error, FieldError, Result};
use crate::model::*;

/// Which backend a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, embedded.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Backend {
    /// Name for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Users.
#[async_trait]
pub trait UserStore {
    /// Creates a user. A taken username or e-mail is a 409 naming the field.
    async fn create_user(&self, user: &NewUser, audit: &AuditRecord) -> Result<User>;
    /// A user by id.
    async fn user(&self, id: Id) -> Result<Option<User>>;
    /// A user by username or e-mail, case-insensitively.
    async fn user_by_login(&self, login: &str) -> Result<Option<User>>;
    /// Users matching the filters, by username.
    async fn list_users(&self, query: &UserQuery) -> Result<Page<User>>;
    /// Applies the changes; `NotFound` when the user does not exist.
    async fn update_user(&self, id: Id, update: &UserUpdate, audit: &AuditRecord) -> Result<User>;
    /// Deletes a user; their events and audit rows stay.
    async fn delete_user(&self, id: Id, audit: &AuditRecord) -> Result<()>;
    /// Number of users (the first one registered becomes ADMIN).
    async fn count_users(&self) -> Result<i64>;
}

/// Teams.
#[async_trait]
pub trait TeamStore {
    /// Creates a team. A taken name is a 409.
    async fn create_team(&self, team: &NewTeam, audit: &AuditRecord) -> Result<Team>;
    /// A team by id.
    async fn team(&self, id: Id) -> Result<Option<Team>>;
    /// Every team, by name.
    async fn list_teams(&self) -> Result<Vec<Team>>;
    /// Renames or re-describes a team, or changes its lead.
    async fn update_team(&self, id: Id, update: &TeamUpdate, audit: &AuditRecord) -> Result<Team>;
    /// Deletes a team; members keep their accounts without a team.
    async fn delete_team(&self, id: Id, audit: &AuditRecord) -> Result<()>;
}

/// Events.
#[async_trait]
pub trait EventStore {
    /// Creates an event and enqueues `jobs` in the same transaction.
    async fn create_event(&self, event: &NewEvent, audit: &AuditRecord, jobs: &[NewJob]) -> Result<Event>;
    /// An event by id.
    async fn event(&self, id: Id) -> Result<Option<Event>>;
    /// Events matching the filters, by start then id. A window selects events (or series) whose span
    /// overlaps it; expanding series into occurrences is the caller's job.
    async fn list_events(&self, query: &EventQuery) -> Result<Vec<Event>>;
    /// Replaces the editable fields when the stored version is `expected_version` (else 409),
    /// bumps the version and enqueues `jobs`, in one transaction.
    async fn update_event(
        &self,
        id: Id,
        update: &UpdateEvent,
        audit: &AuditRecord,
        jobs: &[NewJob],
    ) -> Result<Event>;
    /// Deletes an event, its occurrences, comments and history.
    async fn delete_event(&self, id: Id, audit: &AuditRecord) -> Result<()>;
}

/// The audit trail.
#[async_trait]
pub trait AuditStore {
    /// Appends a row on its own (for events without a stored change, e.g. a failed login).
    async fn append_audit(&self, record: &AuditRecord) -> Result<Id>;
    /// Rows matching the filters, newest first.
    async fn list_audit(&self, query: &AuditQuery) -> Result<Page<AuditEntry>>;
}

/// Background jobs.
#[async_trait]
pub trait JobStore {
    /// Enqueues a job; `None` when a job with the same dedupe key exists.
    async fn enqueue_job(&self, job: &NewJob) -> Result<Option<Id>>;
    /// Claims up to `limit` due jobs for `worker`. A job is claimed by one worker only.
    async fn claim_jobs(&self, worker: &str, limit: i64, now: DateTime<Utc>) -> Result<Vec<Job>>;
    /// Marks the worker's running jobs alive.
    async fn heartbeat_jobs(&self, worker: &str, ids: &[Id], now: DateTime<Utc>) -> Result<()>;
    /// Marks a job done (only by the worker holding it).
    async fn complete_job(&self, id: Id, worker: &str) -> Result<()>;
    /// Records a failure: retried at `retry_at`, or `failed` after `max_attempts`.
    async fn fail_job(&self, id: Id, worker: &str, error: &str, retry_at: DateTime<Utc>) -> Result<()>;
    /// Puts back jobs whose worker stopped heart-beating before `stale_before` (a killed replica).
    async fn requeue_stale_jobs(&self, stale_before: DateTime<Utc>) -> Result<u64>;
    /// A job by id.
    async fn job(&self, id: Id) -> Result<Option<Job>>;
    /// Fails a running job for good whatever its attempts (a permanent error); only by the
    /// worker holding it.
    async fn fail_job_permanently(&self, id: Id, worker: &str, error: &str) -> Result<()>;
    /// Gives a running job back to the queue, due at `now`, without counting the attempt (its
    /// worker is shutting down); only by the worker holding it.
    async fn release_job(&self, id: Id, worker: &str, reason: &str, now: DateTime<Utc>) -> Result<()>;
    /// Jobs due at `now` and not claimed, database-wide (`background_jobs_pending`).
    async fn count_pending_jobs(&self, now: DateTime<Utc>) -> Result<i64>;
    /// The database's clock: workers stamp claims, heart-beats and retries on it, so that a
    /// replica with a skewed clock neither steals live jobs nor loses its own.
    async fn database_time(&self) -> Result<DateTime<Utc>>;
}

/// Credentials, sessions, second factor, invitations and delegations.
#[async_trait]
pub trait AuthStore {
    /// Counts a failed login; locks the account at `threshold` consecutive failures. Returns whether
    /// the account is now locked. The audit row is written in the same transaction.
    async fn record_login_failure(&self, user_id: Id, threshold: i32, audit: &AuditRecord) -> Result<bool>;
    /// Resets the failure counter after a successful login.
    async fn record_login_success(&self, user_id: Id) -> Result<()>;
    /// Unlocks a locked account.
    async fn unlock_user(&self, user_id: Id, audit: &AuditRecord) -> Result<()>;
    /// Replaces the password hash; `end_sessions` also ends every session (a password change).
    async fn set_password_hash(
        &self,
        user_id: Id,
        hash: &str,
        end_sessions: bool,
        audit: &AuditRecord,
    ) -> Result<()>;
    /// Stores a new refresh token (a new session family, or the next token of one).
    async fn create_session(&self, session: &NewSession) -> Result<()>;
    /// Rotates a refresh token atomically; see [`Rotation`].
    async fn rotate_session(
        &self,
        old_hash: &str,
        new_hash: &str,
        now: DateTime<Utc>,
        idle_cutoff: DateTime<Utc>,
    ) -> Result<Rotation>;
    /// Revokes every token of a session family (logout, theft detection).
    async fn revoke_session_family(&self, family: uuid::Uuid, reason: &str) -> Result<()>;
    /// Whether a family still has a usable token (its access tokens are then honoured).
    async fn session_family_active(&self, family: uuid::Uuid, now: DateTime<Utc>) -> Result<bool>;
    /// Ends every session of a user: revokes all families and bumps the session epoch.
    async fn end_all_sessions(&self, user_id: Id, audit: &AuditRecord) -> Result<()>;
    /// The user's active sessions, newest first.
    async fn list_sessions(&self, user_id: Id, now: DateTime<Utc>) -> Result<Vec<SessionInfo>>;
    /// The user's TOTP state.
    async fn totp_state(&self, user_id: Id) -> Result<Option<TotpState>>;
    /// Stores a new, not yet enabled, encrypted TOTP seed (2FA setup).
    async fn set_pending_totp(&self, user_id: Id, secret_enc: &str) -> Result<()>;
    /// Enables TOTP, records the step used to confirm it and replaces the recovery codes.
    async fn enable_totp(
        &self,
        user_id: Id,
        step: i64,
        recovery_hashes: &[String],
        audit: &AuditRecord,
    ) -> Result<()>;
    /// Consumes a TOTP time step: true only if `step` is newer than the last one used. Atomic, so of
    /// concurrent logins with one code exactly one succeeds.
    async fn use_totp_step(&self, user_id: Id, step: i64) -> Result<bool>;
    /// Consumes a recovery code (by hash): true once.
    async fn use_recovery_code(&self, user_id: Id, code_hash: &str) -> Result<bool>;
    /// Turns 2FA off and deletes the seed and recovery codes.
    async fn disable_totp(&self, user_id: Id, audit: &AuditRecord) -> Result<()>;
    /// Stores an invitation.
    async fn create_invitation(&self, invitation: &NewInvitation, audit: &AuditRecord) -> Result<Id>;
    /// Creates a user from an unused, unexpired invitation, consuming it, in one transaction. The
    /// role and team come from the invitation. `None` when the invitation is not usable.
    async fn register_invited(
        &self,
        user: &NewUser,
        token_hash: &str,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Option<User>>;
    /// Grants a capability for a bounded time.
    async fn create_delegation(&self, delegation: &NewDelegation, audit: &AuditRecord) -> Result<Delegation>;
    /// Delegations of a user in force at `now`.
    async fn active_delegations(&self, grantee: Id, now: DateTime<Utc>) -> Result<Vec<Delegation>>;
    /// Every delegation in force at `now`.
    async fn list_delegations(&self, now: DateTime<Utc>) -> Result<Vec<Delegation>>;
    /// Ends a delegation early.
    async fn revoke_delegation(&self, id: Id, now: DateTime<Utc>, audit: &AuditRecord) -> Result<()>;
}

/// Deployment workflow: status changes, approvals, history, freeze periods, calendar feed tokens.
#[async_trait]
pub trait WorkflowStore {
    /// Applies a status change atomically: only when the event is in `change.from` (else 409
    /// naming the current status); records the status transition and the approval step (if any),
    /// bumps the version, writes the audit row and enqueues `jobs`, in one transaction.
    async fn change_status(
        &self,
        event_id: Id,
        change: &StatusChange,
        audit: &AuditRecord,
        jobs: &[NewJob],
    ) -> Result<Event>;
    /// Records an approval step that does not change the status (e.g. review started).
    async fn add_approval_step(
        &self,
        event_id: Id,
        actor_id: Option<Id>,
        action: ApprovalAction,
        comment: &str,
        audit: &AuditRecord,
    ) -> Result<()>;
    /// Approval steps and status changes of an event, oldest first.
    async fn event_history(&self, event_id: Id) -> Result<Vec<HistoryEntry>>;
    /// Creates a freeze period.
    async fn create_freeze(&self, freeze: &NewFreeze, audit: &AuditRecord) -> Result<FreezePeriod>;
    /// Every freeze period.
    async fn list_freezes(&self) -> Result<Vec<FreezePeriod>>;
    /// Deletes a freeze period.
    async fn delete_freeze(&self, id: Id, audit: &AuditRecord) -> Result<()>;
    /// Stores a calendar feed token (hash) for a user.
    async fn create_calendar_token(&self, user_id: Id, token_hash: &str, audit: &AuditRecord) -> Result<Id>;
    /// The owner of an unrevoked calendar feed token.
    async fn calendar_token_user(&self, token_hash: &str) -> Result<Option<Id>>;
    /// Revokes every calendar feed token of a user.
    async fn revoke_calendar_tokens(&self, user_id: Id, audit: &AuditRecord) -> Result<u64>;
    /// Usernames by id (for lists that show who).
    async fn usernames(&self, ids: &[Id]) -> Result<Vec<(Id, String)>>;
}

/// Comments, reactions and notifications.
#[async_trait]
pub trait SocialStore {
    /// Stores a comment with its audit row and `jobs` (mention notifications) in one transaction.
    async fn create_comment(
        &self,
        comment: &NewComment,
        audit: &AuditRecord,
        jobs: &[NewJob],
    ) -> Result<Comment>;
    /// A comment with its reactions.
    async fn comment(&self, id: Id) -> Result<Option<Comment>>;
    /// The comments of an event, oldest first, with their reactions.
    async fn list_comments(&self, event_id: Id) -> Result<Vec<Comment>>;
    /// Deletes a comment and its reactions; `NotFound` when it does not exist.
    async fn delete_comment(&self, id: Id, audit: &AuditRecord) -> Result<()>;
    /// Adds `user_id`'s `emoji` reaction to a comment, or removes it when present. Returns whether it
    /// is present now. The audit row records the emoji and the direction.
    async fn toggle_reaction(
        &self,
        comment_id: Id,
        user_id: Id,
        emoji: &str,
        audit: &AuditRecord,
    ) -> Result<bool>;
    /// Users whose username is one of `names` (case-insensitively).
    async fn users_by_usernames(&self, names: &[String]) -> Result<Vec<User>>;
    /// Stores notifications (a row whose dedupe key exists is skipped) and enqueues their delivery
    /// `jobs`, in one transaction. Returns the ids of the rows stored now.
    async fn store_notifications(&self, rows: &[NewNotification], jobs: &[NewJob]) -> Result<Vec<Id>>;
    /// A notification by its dedupe key.
    async fn notification_by_key(&self, key: &str) -> Result<Option<Notification>>;
    /// A user's notifications, newest first.
    async fn list_notifications(&self, user_id: Id, offset: i64, limit: i64) -> Result<Page<Notification>>;
    /// How many of a user's notifications are unread.
    async fn unread_notifications(&self, user_id: Id) -> Result<i64>;
    /// Marks one of the user's notifications read (kept at its first read time); `NotFound` when it is
    /// not theirs.
    async fn mark_notification_read(
        &self,
        user_id: Id,
        id: Id,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<()>;
    /// Marks every unread notification of the user read; returns how many.
    async fn mark_all_notifications_read(
        &self,
        user_id: Id,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<u64>;
    /// Unread notifications created in `[from, until)`, of one user or of everyone, by user then id.
    async fn unread_notifications_between(
        &self,
        user_id: Option<Id>,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<Notification>>;
    /// A user's preferences (the defaults when never set).
    async fn notification_preferences(&self, user_id: Id) -> Result<NotificationPreferences>;
    /// Replaces a user's preferences.
    async fn set_notification_preferences(
        &self,
        user_id: Id,
        preferences: &NotificationPreferences,
        audit: &AuditRecord,
    ) -> Result<()>;
    /// Whether the e-mail or chat message with this key was delivered.
    async fn delivered(&self, key: &str) -> Result<bool>;
    /// Records a delivery; false when it was already recorded.
    async fn record_delivery(&self, key: &str, channel: &str) -> Result<bool>;
}

/// Everything the app stores. Implemented by each backend.
#[async_trait]
pub trait Store:
    UserStore
    + TeamStore
    + EventStore
    + AuditStore
    + JobStore
    + AuthStore
    + WorkflowStore
    + SocialStore
    + Send
    + Sync
    + 'static
{
    /// Which backend this is.
    fn backend(&self) -> Backend;
    /// Round trip to the database (readiness).
    async fn ping(&self) -> Result<()>;
    /// Applies the embedded migrations that have not run yet.
    async fn migrate(&self) -> Result<()>;
    /// Closes the pool, waiting for connections in use.
    async fn close(&self);
}

/// A shareable store.
pub type DynStore = Arc<dyn Store>;

/// Connects to the backend named by the URL scheme (does not migrate).
pub async fn connect(settings: &DatabaseSettings) -> Result<DynStore> {
    let url = settings.url.expose();
    if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::connect(settings).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PgStore::connect(settings).await?))
    } else {
        Err(Error::Config(crate::config::ConfigError::new(format!(
            "database.url: unsupported scheme in {}; use sqlite:// or postgres://",
            redact_url(url)
        ))))
    }
}

/// Maps database errors to API errors, in one place: constraint names become field errors.
pub fn map_sqlx_error(e: sqlx::Error) -> Error {
    match &e {
        sqlx::Error::RowNotFound => Error::NotFound("row"),
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => {
            Error::Unavailable("the database is not reachable; retry shortly".to_owned())
        }
        sqlx::Error::Database(db) => {
            let text = format!("{} {}", db.constraint().unwrap_or_default(), db.message());
            if db.is_unique_violation() {
                return unique_violation(&text).unwrap_or_else(|| {
                    Error::conflict("duplicate", "a row with the same unique value already exists")
                });
            }
            if db.is_foreign_key_violation() {
                return Error::Validation(vec![FieldError::new(
                    "reference",
                    "missing_reference",
                    "refers to a user, team or event that does not exist",
                )]);
            }
            if db.is_check_violation() {
                return Error::Validation(vec![FieldError::new(
                    "body",
                    "constraint",
                    "a value is out of range (length or allowed values); see the API documentation",
                )]);
            }
            // SQLite reports a full disk or a read-only database as plain errors.
            if db.message().contains("database or disk is full") || db.message().contains("readonly") {
                return Error::Unavailable("the database cannot accept writes (disk full?)".to_owned());
            }
            Error::Internal(anyhow::Error::new(e))
        }
        _ => Error::Internal(anyhow::Error::new(e)),
    }
}

/// Unique constraints by name (both backends use the same index names).
const UNIQUE_CONSTRAINTS: &[(&str, &str, &str)] = &[
    (
        "users_username_key",
        "username",
        "this username is taken; choose another",
    ),
    ("users_email_key", "email", "an account with this e-mail exists"),
    ("teams_name_key", "name", "a team with this name exists"),
    (
        "events_occurrence_unique",
        "recurrence_id",
        "this occurrence has already been edited",
    ),
];

fn unique_violation(text: &str) -> Option<Error> {
    UNIQUE_CONSTRAINTS
        .iter()
        .find(|(name, ..)| text.contains(name))
        .map(|(_, field, message)| Error::Duplicate { field, message })
}

/// Clamps a page size to 1..=500 (100 when unset).
pub(crate) fn page_limit(limit: i64) -> i64 {
    if limit <= 0 { 100 } else { limit.min(500) }
}

/// Row types shared by both backends (sqlx's `FromRow` is generic over the database).
// Row structs are internal and UserRow holds a password hash: no Debug on purpose.
#[allow(missing_debug_implementations)]
pub(crate) mod rows {
    use super::*;
    use sqlx::types::Json;

    #[derive(sqlx::FromRow)]
    pub struct UserRow {
        pub id: i64,
        pub username: String,
        pub email: String,
        pub display_name: String,
        pub password_hash: String,
        pub role: String,
        pub team_id: Option<i64>,
        pub totp_enabled: bool,
        pub disabled: bool,
        pub locked_at: Option<DateTime<Utc>>,
        pub session_epoch: i64,
        pub locale: String,
        pub timezone: String,
        pub created_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
    }

    impl TryFrom<UserRow> for User {
        type Error = Error;
        fn try_from(r: UserRow) -> Result<Self> {
            Ok(User {
                id: r.id,
                role: r
                    .role
                    .parse()
                    .map_err(|e: String| Error::Internal(anyhow::anyhow!(e)))?,
                username: r.username,
                email: r.email,
                display_name: r.display_name,
                password_hash: r.password_hash,
                team_id: r.team_id,
                totp_enabled: r.totp_enabled,
                disabled: r.disabled,
                locked: r.locked_at.is_some(),
                session_epoch: r.session_epoch,
                locale: r.locale,
                timezone: r.timezone,
                created_at: r.created_at,
                updated_at: r.updated_at,
            })
        }
    }

    pub const USER_COLUMNS: &str = "id, username, email, display_name, password_hash, role, team_id, \
        totp_enabled, disabled, locked_at, session_epoch, locale, timezone, created_at, updated_at";

    #[derive(sqlx::FromRow)]
    pub struct TeamRow {
        pub id: i64,
        pub name: String,
        pub description: String,
        pub lead_id: Option<i64>,
        pub created_at: DateTime<Utc>,
    }

    impl From<TeamRow> for Team {
        fn from(r: TeamRow) -> Self {
            Team {
                id: r.id,
                name: r.name,
                description: r.description,
                lead_id: r.lead_id,
                created_at: r.created_at,
            }
        }
    }

    #[derive(sqlx::FromRow)]
    pub struct EventRow {
        pub id: i64,
        #[sqlx(rename = "type")]
        pub kind: String,
        pub title: String,
        pub description: String,
        pub start_at: DateTime<Utc>,
        pub end_at: DateTime<Utc>,
        pub rrule: Option<String>,
        pub exdates: Json<Vec<DateTime<Utc>>>,
        pub parent_id: Option<i64>,
        pub recurrence_id: Option<DateTime<Utc>>,
        pub extra: Json<serde_json::Value>,
        pub status: String,
        pub created_by: Option<i64>,
        pub team_id: Option<i64>,
        pub approved_by: Option<i64>,
        pub approved_at: Option<DateTime<Utc>>,
        pub version: i32,
        pub created_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
    }

    pub const EVENT_COLUMNS: &str = "id, type, title, description, start_at, end_at, rrule, exdates, \
        parent_id, recurrence_id, extra, status, created_by, team_id, approved_by, approved_at, version, \
        created_at, updated_at";

    impl TryFrom<EventRow> for Event {
        type Error = Error;
        fn try_from(r: EventRow) -> Result<Self> {
            let kind = EventKind::parse(&r.kind)
                .ok_or_else(|| Error::Internal(anyhow::anyhow!("stored event {} has unknown type", r.id)))?;
            let payload = EventPayload::from_parts(kind, r.extra.0).map_err(|e| {
                Error::Internal(anyhow::anyhow!(
                    "stored event {} has an invalid payload: {e}",
                    r.id
                ))
            })?;
            let status = EventStatus::parse(&r.status).ok_or_else(|| {
                Error::Internal(anyhow::anyhow!("stored event {} has unknown status", r.id))
            })?;
            Ok(Event {
                id: r.id,
                title: r.title,
                description: r.description,
                start: r.start_at,
                end: r.end_at,
                rrule: r.rrule,
                exdates: r.exdates.0,
                parent_id: r.parent_id,
                recurrence_id: r.recurrence_id,
                payload,
                status,
                created_by: r.created_by,
                team_id: r.team_id,
                approved_by: r.approved_by,
                approved_at: r.approved_at,
                version: r.version,
                created_at: r.created_at,
                updated_at: r.updated_at,
            })
        }
    }

    #[derive(sqlx::FromRow)]
    pub struct AuditRow {
        pub id: i64,
        pub occurred_at: DateTime<Utc>,
        pub user_id: Option<i64>,
        pub credential: String,
        pub action: String,
        pub resource_type: String,
        pub resource_id: Option<String>,
        pub outcome: String,
        pub details: Json<serde_json::Value>,
        pub ip_address: Option<String>,
        pub user_agent: Option<String>,
        pub request_id: Option<String>,
    }

    impl From<AuditRow> for AuditEntry {
        fn from(r: AuditRow) -> Self {
            AuditEntry {
                id: r.id,
                occurred_at: r.occurred_at,
                user_id: r.user_id,
                credential: r.credential,
                action: r.action,
                resource_type: r.resource_type,
                resource_id: r.resource_id,
                outcome: r.outcome,
                details: r.details.0,
                ip: r.ip_address,
                user_agent: r.user_agent,
                request_id: r.request_id,
            }
        }
    }

    pub const AUDIT_COLUMNS: &str = "id, occurred_at, user_id, credential, action, resource_type, \
        resource_id, outcome, details, ip_address, user_agent, request_id";

    #[derive(sqlx::FromRow)]
    pub struct DelegationRow {
        pub id: i64,
        pub grantor_id: i64,
        pub grantee_id: i64,
        pub starts_at: DateTime<Utc>,
        pub expires_at: DateTime<Utc>,
        pub revoked_at: Option<DateTime<Utc>>,
    }

    pub const DELEGATION_COLUMNS: &str = "id, grantor_id, grantee_id, starts_at, expires_at, revoked_at";

    impl From<DelegationRow> for Delegation {
        fn from(r: DelegationRow) -> Self {
            Delegation {
                id: r.id,
                grantor_id: r.grantor_id,
                grantee_id: r.grantee_id,
                // The only capability so far; the column's CHECK constraint guarantees it.
                capability: Capability::DevLead,
                starts_at: r.starts_at,
                expires_at: r.expires_at,
                revoked_at: r.revoked_at,
            }
        }
    }

    #[derive(sqlx::FromRow)]
    pub struct JobRow {
        pub id: i64,
        pub kind: String,
        pub payload: Json<serde_json::Value>,
        pub status: String,
        pub run_at: DateTime<Utc>,
        pub attempts: i32,
        pub max_attempts: i32,
        pub locked_by: Option<String>,
        pub last_error: Option<String>,
        pub dedupe_key: Option<String>,
    }

    pub const JOB_COLUMNS: &str =
        "id, kind, payload, status, run_at, attempts, max_attempts, locked_by, last_error, dedupe_key";

    impl TryFrom<JobRow> for Job {
        type Error = Error;
        fn try_from(r: JobRow) -> Result<Self> {
            Ok(Job {
                id: r.id,
                status: JobStatus::parse(&r.status)
                    .ok_or_else(|| Error::Internal(anyhow::anyhow!("job {} has unknown status", r.id)))?,
                kind: r.kind,
                payload: r.payload.0,
                run_at: r.run_at,
                attempts: r.attempts,
                max_attempts: r.max_attempts,
                locked_by: r.locked_by,
                last_error: r.last_error,
                dedupe_key: r.dedupe_key,
            })
        }
    }
}
